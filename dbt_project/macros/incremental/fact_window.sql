{#
    The trailing date window the incremental facts rebuild (DECISIONLOG.md, "Incremental facts").

    vars `sentrum_window_start` / `sentrum_window_end` (ISO dates, inclusive, both or neither): the dates to rebuild,
    over every workspace. The orchestrator passes the union of the windows it extracted in the run, in
    SENTRUM_DBT_WINDOW_START / _END (read through `run_var`: macros/vars/run_var.sql, which says why and what wins).

    Unset: the restatement window. Meta's numbers "do not change after 28 days of being reported", and the extractor
    re-pulls yesterday and the 28 days before it (29 days) in each ACCOUNT's time zone. Account "yesterdays" range
    from UTC-today minus 2 days (UTC-12) to UTC-today (UTC+14), so the default covers [UTC-today - 30, UTC-today]: 31
    dates, the 29-day window of every time zone.
    Rebuilding a date that did not change is harmless (it is rebuilt from the same staging rows).

    The window is computed in Jinja from `run_started_at`, once per invocation: the SQL filter, the DuckDB delete and
    the BigQuery partition list all use the very same dates.

    Returns {'start': date, 'end': date, 'explicit': bool}.
#}
{% macro fact_window() -%}
    {%- set start_var = sentrum.run_var('sentrum_window_start') -%}
    {%- set end_var = sentrum.run_var('sentrum_window_end') -%}
    {%- set datetime = modules.datetime -%}
    {%- if start_var is none and end_var is none -%}
        {%- set end_date = run_started_at.date() -%}
        {%- set days = sentrum.run_var('sentrum_default_window_days', 31) | int -%}
        {%- set start_date = end_date - datetime.timedelta(days=days - 1) -%}
        {{ return({'start': start_date, 'end': end_date, 'explicit': false}) }}
    {%- endif -%}
    {%- if start_var is none or end_var is none -%}
        {{ exceptions.raise_compiler_error(
            "sentrum_window_start and sentrum_window_end go together: got start=" ~ start_var ~ ", end=" ~ end_var
        ) }}
    {%- endif -%}
    {%- set start_date = sentrum.parse_iso_date(start_var, 'sentrum_window_start') -%}
    {%- set end_date = sentrum.parse_iso_date(end_var, 'sentrum_window_end') -%}
    {%- if start_date > end_date -%}
        {{ exceptions.raise_compiler_error(
            "the date window is reversed: sentrum_window_start " ~ start_date ~ " > sentrum_window_end " ~ end_date
        ) }}
    {%- endif -%}
    {{ return({'start': start_date, 'end': end_date, 'explicit': true}) }}
{%- endmacro %}


{# A var value (a string, or a date when YAML parsed it as one) as a datetime.date; anything else fails loudly. #}
{% macro parse_iso_date(value, name) -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be an ISO date (YYYY-MM-DD), not '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.strptime(text, '%Y-%m-%d').date()) }}
{%- endmacro %}


{#
    `column between <start> and <end>`: the rows of the window.

    An explicit window renders as date literals. The default window renders through `default_window_bounds`, at
    execution time: on DuckDB as literals from `run_started_at` (the model's SQL and the delete of the custom strategy
    are both rendered during the run), on BigQuery relative to `current_date()`, because the static partition list is
    a model config, fixed when dbt parses the model, and a partial parse may be days old. An explicit window is safe
    there: a fact model reads it while it is parsed, so dbt re-parses the model when the value changes, whether it
    came from the environment (dbt records the env vars each file read at parse time) or from `--vars` (any change of
    the command line's vars makes dbt parse the whole project).
#}
{% macro fact_window_filter(column='date_day') -%}
    {%- set window = sentrum.fact_window() -%}
    {%- if window.explicit -%}
        {{ column }} between {{ sentrum.date_literal(window.start) }} and {{ sentrum.date_literal(window.end) }}
    {%- else -%}
        {%- set bounds = sentrum.default_window_bounds() -%}
        {{ column }} between {{ bounds[0] }} and {{ bounds[-1] }}
    {%- endif -%}
{%- endmacro %}


{#
    Every date of the window, oldest first, as SQL expressions: BigQuery's static insert_overwrite partition list
    (never the dynamic form: it costs a scan of the new data and the BigQuery emulator cannot run it).
#}
{% macro fact_window_partitions() -%}
    {%- set window = sentrum.fact_window() -%}
    {%- if not window.explicit -%}
        {{ return(sentrum.default_window_bounds(every_day=true)) }}
    {%- endif -%}
    {%- set days = (window.end - window.start).days -%}
    {%- if days >= 3650 -%}
        {# BigQuery modifies at most 4,000 partitions per statement; Meta keeps 37 months anyway. #}
        {{ exceptions.raise_compiler_error(
            "a window of " ~ (days + 1) ~ " days is too long for one incremental run; use --full-refresh"
        ) }}
    {%- endif -%}
    {%- set partitions = [] -%}
    {%- for offset in range(days + 1) -%}
        {%- do partitions.append(
            sentrum.date_literal(window.start + modules.datetime.timedelta(days=offset))
        ) -%}
    {%- endfor -%}
    {{ return(partitions) }}
{%- endmacro %}


{#
    The default window as SQL expressions: [first, last], or every day oldest first with every_day=true.
#}
{% macro default_window_bounds(every_day=false) -%}
    {{ return(adapter.dispatch('default_window_bounds', 'sentrum')(every_day)) }}
{%- endmacro %}

{# Literals from run_started_at (UTC): rendered at execution, the same for the whole invocation. #}
{% macro default__default_window_bounds(every_day=false) -%}
    {%- set window = sentrum.fact_window() -%}
    {%- set days = (window.end - window.start).days -%}
    {%- set bounds = [] -%}
    {%- for offset in range(days + 1) -%}
        {%- if every_day or offset in (0, days) -%}
            {%- do bounds.append(sentrum.date_literal(window.start + modules.datetime.timedelta(days=offset))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}

{# Relative to current_date() (UTC), evaluated by BigQuery in the same statement as the partition list. #}
{% macro bigquery__default_window_bounds(every_day=false) -%}
    {%- set days = (sentrum.run_var('sentrum_default_window_days', 31) | int) - 1 -%}
    {%- set bounds = [] -%}
    {%- for back in range(days, -1, -1) -%}
        {%- if every_day or back in (0, days) -%}
            {%- do bounds.append('date_sub(current_date(), interval ' ~ back ~ ' day)') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}
