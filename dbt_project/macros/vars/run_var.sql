{#
    The value of one of the vars that change from run to run: the window (`sentrum_window_start`/`_end`), the default
    window's length (`sentrum_default_window_days`) and the active workspaces (`sentrum_workspaces`). Every read of
    them goes through here.

    The orchestrator passes them in the environment, one variable per var, named after it: SENTRUM_DBT_WINDOW_START,
    SENTRUM_DBT_WINDOW_END, SENTRUM_DBT_DEFAULT_WINDOW_DAYS, SENTRUM_DBT_WORKSPACES (`run_var_env_name`), each
    holding the value as JSON (`["acme", "globex"]`, `31`) or as plain text (`2026-11-01`). Not with `--vars`: dbt
    throws its whole saved parse away when the command line's vars differ from the last parse's (~150 nodes), whereas
    it records, per file, the env vars the file read while it was parsed (also through the macros it called) and
    re-parses only those files when a value changes: on BigQuery the fact models, whose static partition list (a
    config) is computed from the window; on DuckDB nothing, the window is rendered when the facts run. A variable read
    only at execution (the tests' window, the on-run-end access layer) is no parse state at all, so the workspace ids
    are never stored in dbt's saved parse.

    Precedence, per var: a value given as a dbt var (`--vars` on the command line, a unit test's `overrides: vars`)
    wins; else the environment's; else `default`. dbt_project.yml declares these vars null, so that a non-null `var()`
    means "given".
#}
{% macro run_var(name, default=none) -%}
    {%- set given = var(name, none) -%}
    {%- if given is not none -%}
        {{ return(given) }}
    {%- endif -%}
    {%- set text = env_var(sentrum.run_var_env_name(name), '') | trim -%}
    {%- if not text or text == 'null' -%}
        {{ return(default) }}
    {%- endif -%}
    {#- fromjson gives none for text that is not JSON (a bare date): that is the value as it is -#}
    {%- set value = fromjson(text) -%}
    {{ return(text if value is none else value) }}
{%- endmacro %}


{# `sentrum_window_start` -> SENTRUM_DBT_WINDOW_START (orchestration/dbt_prepare.py spells it the same way). #}
{% macro run_var_env_name(name) -%}
    {{ return('SENTRUM_DBT_' ~ (name | replace('sentrum_', '', 1) | upper)) }}
{%- endmacro %}
