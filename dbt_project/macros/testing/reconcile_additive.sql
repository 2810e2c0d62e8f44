{#
    The rows where the additive metrics of `child` (summed to `keys`) differ from `parent`'s (summed to `keys`):
    the body of the reconciliation tests (breakdown cells vs the ad-day, ads vs their account / campaign / ad set).

    - Counts (impressions, clicks, inline_link_clicks, conversions) must match exactly; money (spend,
      conversion_value) within `money_tolerance` (0.01: Meta rounds each row to the cent).
    - Only on (workspace_id, account_id, date_day) where BOTH reports are visible, i.e. a complete batch of each
      covers the date (int_meta__report_coverage): a report not yet pulled for a date is a gap, not a mismatch.
      On such a date a key present on one side only compares with zeros (an ad missing from a breakdown is caught).
    - reach and frequency are never compared: they do not add up.
    - Test windowing (macros/testing/test_window.sql) applies to both sides.

    keys must include workspace_id, account_id and date_day.
#}
{% macro reconcile_additive(child, parent, keys, child_report, parent_report, money_tolerance=0.01) -%}
    {%- set counts = ['impressions', 'clicks', 'inline_link_clicks', 'conversions'] -%}
    {%- set money = ['spend', 'conversion_value'] -%}
    {%- set child_filter = sentrum.test_window_filter(child.identifier) -%}
    {%- set parent_filter = sentrum.test_window_filter(parent.identifier) -%}
    {%- set coverage_filter = sentrum.test_window_filter('int_meta__report_coverage') -%}

with

child_sums as (

    select
        {%- for key in keys %}
        child_rows.{{ key }},
        {%- endfor %}
        {%- for metric in counts + money %}
        sum(child_rows.{{ metric }}) as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ child }} as child_rows
    {%- if child_filter %}
    where {{ child_filter }}
    {%- endif %}
    group by
        {%- for key in keys %}
        child_rows.{{ key }}{% if not loop.last %},{% endif %}
        {%- endfor %}

),

parent_sums as (

    select
        {%- for key in keys %}
        parent_rows.{{ key }},
        {%- endfor %}
        {%- for metric in counts + money %}
        sum(parent_rows.{{ metric }}) as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ parent }} as parent_rows
    {%- if parent_filter %}
    where {{ parent_filter }}
    {%- endif %}
    group by
        {%- for key in keys %}
        parent_rows.{{ key }}{% if not loop.last %},{% endif %}
        {%- endfor %}

),

coverage as (

    select * from {{ ref('int_meta__report_coverage') }}
    {%- if coverage_filter %}
    where {{ coverage_filter }}
    {%- endif %}

),

visible_in_both as (

    select
        child_coverage.workspace_id,
        child_coverage.account_id,
        child_coverage.date_day
    from coverage as child_coverage
    inner join coverage as parent_coverage
        on
            child_coverage.workspace_id = parent_coverage.workspace_id
            and child_coverage.account_id = parent_coverage.account_id
            and child_coverage.date_day = parent_coverage.date_day
    where
        child_coverage.report = {{ sentrum.string_literal(child_report) }}
        and parent_coverage.report = {{ sentrum.string_literal(parent_report) }}

),

compared as (

    select
        {%- for key in keys %}
        coalesce(child_sums.{{ key }}, parent_sums.{{ key }}) as {{ key }},
        {%- endfor %}
        {%- for metric in counts + money %}
        coalesce(child_sums.{{ metric }}, 0) as child_{{ metric }},
        coalesce(parent_sums.{{ metric }}, 0) as parent_{{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from child_sums
    full outer join parent_sums
        on
            {%- for key in keys %}
            {% if not loop.first %}and {% endif %}child_sums.{{ key }} = parent_sums.{{ key }}
            {%- endfor %}

)

select compared.*
from compared
inner join visible_in_both
    on
        compared.workspace_id = visible_in_both.workspace_id
        and compared.account_id = visible_in_both.account_id
        and compared.date_day = visible_in_both.date_day
where
    {%- for metric in counts %}
    {% if not loop.first %}or {% endif %}compared.child_{{ metric }} != compared.parent_{{ metric }}
    {%- endfor %}
    {%- for metric in money %}
    or abs(compared.child_{{ metric }} - compared.parent_{{ metric }}) > {{ money_tolerance }}
    {%- endfor %}
{%- endmacro %}
