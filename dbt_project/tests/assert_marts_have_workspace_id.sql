{#-
    Every row of every mart carries a workspace_id (tenancy; the retention sweep deletes by it).
    The marts are found from the graph, so a new mart is covered without editing this file, except for
    its `depends_on` line below: dbt refuses to run a ref() it did not see at parse time, so a missing line
    fails loudly instead of silently skipping the new mart. Facts are read within the test window when the run has one
    (macros/testing/test_window.sql).
-#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_ad_insights_daily'}}}) }}
-- depends_on: {{ ref('fct_ad_insights_daily') }}
-- depends_on: {{ ref('fct_adset_insights_daily') }}
-- depends_on: {{ ref('fct_campaign_insights_daily') }}
-- depends_on: {{ ref('fct_account_insights_daily') }}
-- depends_on: {{ ref('fct_ad_insights_daily_by_age_gender') }}
-- depends_on: {{ ref('fct_ad_insights_daily_by_country') }}
-- depends_on: {{ ref('fct_ad_insights_daily_by_placement') }}
-- depends_on: {{ ref('fct_ad_insights_daily_by_device') }}
-- depends_on: {{ ref('fct_ad_actions_daily') }}
-- depends_on: {{ ref('dim_ad_accounts') }}
-- depends_on: {{ ref('dim_campaigns') }}
-- depends_on: {{ ref('dim_adsets') }}
-- depends_on: {{ ref('dim_ads') }}
-- depends_on: {{ ref('dim_creatives') }}
-- depends_on: {{ ref('dim_budget_history') }}

{%- set marts = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') -%}
        {%- if node.package_name == project_name and node.fqn[1] == 'marts' -%}
            {%- do marts.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

{% if marts | length == 0 -%}
select no_marts.model_name
from (select cast(null as {{ sentrum.column_type('string') }}) as model_name) as no_marts
where no_marts.model_name is not null
{%- else -%}
{%- for mart in marts | sort %}
{%- set window_filter = sentrum.test_window_filter(mart) %}
select '{{ mart }}' as model_name
from {{ ref(mart) }}
where workspace_id is null{% if window_filter %} and {{ window_filter }}{% endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endif %}
