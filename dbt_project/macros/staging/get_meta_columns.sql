{#
    The expected columns of each raw Meta table (warehouse/schema.py), with their staging types and names.
    One macro per raw table; fill_staging_columns() turns a list into a typed select list.
#}

{% macro meta_raw_key_columns() %}
    {{ return([
        {"name": "workspace_id", "datatype": sentrum.column_type('string')},
        {"name": "batch_id", "datatype": sentrum.column_type('string')},
        {"name": "account_id", "datatype": sentrum.column_type('string')},
    ]) }}
{% endmacro %}


{% macro meta_insight_key_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "report", "datatype": sentrum.column_type('string')},
        {"name": "level", "datatype": sentrum.column_type('string')},
        {"name": "date_day", "datatype": sentrum.column_type('date')},
        {"name": "campaign_id", "datatype": sentrum.column_type('string')},
        {"name": "adset_id", "datatype": sentrum.column_type('string')},
        {"name": "ad_id", "datatype": sentrum.column_type('string')},
        {"name": "age", "datatype": sentrum.column_type('string')},
        {"name": "gender", "datatype": sentrum.column_type('string')},
        {"name": "country", "datatype": sentrum.column_type('string')},
        {"name": "publisher_platform", "datatype": sentrum.column_type('string')},
        {"name": "platform_position", "datatype": sentrum.column_type('string')},
        {"name": "device_platform", "datatype": sentrum.column_type('string')},
    ]) }}
{% endmacro %}


{% macro get_meta_batches_columns() %}
    {{ return([
        {"name": "workspace_id", "datatype": sentrum.column_type('string')},
        {"name": "batch_id", "datatype": sentrum.column_type('string')},
        {"name": "account_id", "datatype": sentrum.column_type('string')},
        {"name": "report", "datatype": sentrum.column_type('string')},
        {"name": "date_start", "datatype": sentrum.column_type('date')},
        {"name": "date_end", "datatype": sentrum.column_type('date')},
        {"name": "row_count", "datatype": sentrum.column_type('int64')},
        {"name": "tables", "datatype": sentrum.column_type('string'), "alias": "table_row_counts_json"},
        {"name": "params", "datatype": sentrum.column_type('string'), "alias": "params_json"},
        {"name": "started_at", "datatype": sentrum.column_type('timestamp')},
        {"name": "completed_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_ad_accounts_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "name", "datatype": sentrum.column_type('string'), "alias": "account_name"},
        {"name": "currency", "datatype": sentrum.column_type('string'), "alias": "account_currency"},
        {"name": "timezone_name", "datatype": sentrum.column_type('string')},
        {"name": "timezone_offset_hours_utc", "datatype": sentrum.column_type('float64')},
        {"name": "account_status", "datatype": sentrum.column_type('int64')},
        {"name": "business_id", "datatype": sentrum.column_type('string')},
        {"name": "disable_reason", "datatype": sentrum.column_type('int64')},
        {"name": "spend_cap", "datatype": sentrum.column_type('numeric')},
        {"name": "amount_spent", "datatype": sentrum.column_type('numeric')},
        {"name": "extracted_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_campaigns_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "campaign_id", "datatype": sentrum.column_type('string')},
        {"name": "name", "datatype": sentrum.column_type('string'), "alias": "campaign_name"},
        {"name": "status", "datatype": sentrum.column_type('string')},
        {"name": "effective_status", "datatype": sentrum.column_type('string')},
        {"name": "objective", "datatype": sentrum.column_type('string')},
        {"name": "buying_type", "datatype": sentrum.column_type('string')},
        {"name": "bid_strategy", "datatype": sentrum.column_type('string')},
        {"name": "daily_budget", "datatype": sentrum.column_type('numeric')},
        {"name": "lifetime_budget", "datatype": sentrum.column_type('numeric')},
        {"name": "created_time", "datatype": sentrum.column_type('timestamp'), "alias": "created_at"},
        {"name": "updated_time", "datatype": sentrum.column_type('timestamp'), "alias": "updated_at"},
        {"name": "start_time", "datatype": sentrum.column_type('timestamp'), "alias": "start_at"},
        {"name": "stop_time", "datatype": sentrum.column_type('timestamp'), "alias": "stop_at"},
        {"name": "extracted_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_adsets_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "adset_id", "datatype": sentrum.column_type('string')},
        {"name": "campaign_id", "datatype": sentrum.column_type('string')},
        {"name": "name", "datatype": sentrum.column_type('string'), "alias": "adset_name"},
        {"name": "status", "datatype": sentrum.column_type('string')},
        {"name": "effective_status", "datatype": sentrum.column_type('string')},
        {"name": "optimization_goal", "datatype": sentrum.column_type('string')},
        {"name": "billing_event", "datatype": sentrum.column_type('string')},
        {"name": "bid_strategy", "datatype": sentrum.column_type('string')},
        {"name": "daily_budget", "datatype": sentrum.column_type('numeric')},
        {"name": "lifetime_budget", "datatype": sentrum.column_type('numeric')},
        {"name": "created_time", "datatype": sentrum.column_type('timestamp'), "alias": "created_at"},
        {"name": "updated_time", "datatype": sentrum.column_type('timestamp'), "alias": "updated_at"},
        {"name": "start_time", "datatype": sentrum.column_type('timestamp'), "alias": "start_at"},
        {"name": "end_time", "datatype": sentrum.column_type('timestamp'), "alias": "end_at"},
        {"name": "learning_stage_status", "datatype": sentrum.column_type('string')},
        {"name": "learning_stage_conversions", "datatype": sentrum.column_type('int64')},
        {
            "name": "learning_stage_last_sig_edit_at",
            "datatype": sentrum.column_type('timestamp'),
            "alias": "learning_stage_last_edit_at",
        },
        {"name": "extracted_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_ads_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "ad_id", "datatype": sentrum.column_type('string')},
        {"name": "adset_id", "datatype": sentrum.column_type('string')},
        {"name": "campaign_id", "datatype": sentrum.column_type('string')},
        {"name": "name", "datatype": sentrum.column_type('string'), "alias": "ad_name"},
        {"name": "status", "datatype": sentrum.column_type('string')},
        {"name": "effective_status", "datatype": sentrum.column_type('string')},
        {"name": "creative_id", "datatype": sentrum.column_type('string')},
        {"name": "created_time", "datatype": sentrum.column_type('timestamp'), "alias": "created_at"},
        {"name": "updated_time", "datatype": sentrum.column_type('timestamp'), "alias": "updated_at"},
        {"name": "extracted_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_ad_creatives_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "creative_id", "datatype": sentrum.column_type('string')},
        {"name": "name", "datatype": sentrum.column_type('string'), "alias": "creative_name"},
        {"name": "title", "datatype": sentrum.column_type('string')},
        {"name": "body", "datatype": sentrum.column_type('string')},
        {"name": "object_type", "datatype": sentrum.column_type('string')},
        {"name": "call_to_action_type", "datatype": sentrum.column_type('string')},
        {"name": "url_tags", "datatype": sentrum.column_type('string')},
        {"name": "thumbnail_url", "datatype": sentrum.column_type('string')},
        {"name": "status", "datatype": sentrum.column_type('string')},
        {"name": "extracted_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_extraction_errors_columns() %}
    {{ return(sentrum.meta_raw_key_columns() + [
        {"name": "report", "datatype": sentrum.column_type('string')},
        {"name": "date_start", "datatype": sentrum.column_type('date')},
        {"name": "date_end", "datatype": sentrum.column_type('date')},
        {"name": "object_level", "datatype": sentrum.column_type('string')},
        {"name": "object_ids", "datatype": sentrum.column_type('string'), "alias": "object_ids_json"},
        {"name": "fields", "datatype": sentrum.column_type('string'), "alias": "fields_json"},
        {"name": "error_code", "datatype": sentrum.column_type('int64')},
        {"name": "error_subcode", "datatype": sentrum.column_type('int64')},
        {"name": "error_action", "datatype": sentrum.column_type('string')},
        {"name": "message", "datatype": sentrum.column_type('string'), "alias": "error_message"},
        {"name": "fbtrace_id", "datatype": sentrum.column_type('string')},
        {"name": "recorded_at", "datatype": sentrum.column_type('timestamp')},
    ]) }}
{% endmacro %}


{% macro get_meta_insights_columns() %}
    {{ return(sentrum.meta_insight_key_columns() + [
        {"name": "spend", "datatype": sentrum.column_type('numeric')},
        {"name": "impressions", "datatype": sentrum.column_type('int64')},
        {"name": "clicks", "datatype": sentrum.column_type('int64')},
        {"name": "inline_link_clicks", "datatype": sentrum.column_type('int64')},
        {"name": "reach", "datatype": sentrum.column_type('int64')},
        {"name": "frequency", "datatype": sentrum.column_type('float64')},
        {"name": "actions", "datatype": sentrum.record_list_type(sentrum.meta_action_record_fields())},
    ]) }}
{% endmacro %}


{#
    The action lists of an insights row, nested in `meta_insights.actions` (warehouse/schema.py ACTION_RECORD): one
    record per action type with a field per (API list, attribution window), `<list>_<window>`, e.g. `actions_7d_click`,
    `action_values_value` (window `value`: the account's own attribution setting).
#}
{% macro meta_action_metrics() %}
    {{ return(['actions', 'action_values', 'conversions', 'conversion_values']) }}
{% endmacro %}

{% macro meta_action_windows() %}
    {{ return(['value', '1d_click', '7d_click', '28d_click', '1d_view', '1d_ev']) }}
{% endmacro %}

{# [(field name, logical type)] of an action record, action_type first. #}
{% macro meta_action_record_fields() %}
    {%- set fields = [('action_type', 'string')] -%}
    {%- for metric in sentrum.meta_action_metrics() -%}
        {%- for window in sentrum.meta_action_windows() -%}
            {%- do fields.append((metric ~ '_' ~ window, 'numeric')) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(fields) }}
{% endmacro %}
