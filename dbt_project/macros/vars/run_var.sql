{#
    The value of one of the vars that change from run to run: the window (`sentrum_window_start`/`_end`), the default
    window's length (`sentrum_default_window_days`) and the active workspaces (`sentrum_workspaces`). Every read of
    them goes through here.

    The orchestrator passes them in the environment, as SENTRUM_DBT_RUN_VARS (a JSON object keyed by var name), not
    with `--vars`: dbt throws its whole saved parse away when the command line's vars differ from the last parse's
    (~150 nodes), whereas it records, per file, the env vars a file read while it was parsed (also through the macros
    it called) and re-parses only those files when a value changes: the fact models, whose config (BigQuery's
    partition list) and SQL read the window. Read only at execution (tests, the on-run-end hook), a value is no parse
    state at all.

    Precedence, per var: a value given as a dbt var (`--vars` on the command line, a unit test's `overrides: vars`)
    wins; else the key in SENTRUM_DBT_RUN_VARS; else `default`. dbt_project.yml declares these vars null, so that a
    non-null `var()` means "given".
#}
{% macro run_var(name, default=none) -%}
    {%- set given = var(name, none) -%}
    {%- if given is not none -%}
        {{ return(given) }}
    {%- endif -%}
    {%- set text = env_var('SENTRUM_DBT_RUN_VARS', '') | trim -%}
    {%- if not text -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set run_vars = fromjson(text) -%}
    {%- if run_vars is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "SENTRUM_DBT_RUN_VARS must be a JSON object of dbt vars, e.g. {\"sentrum_workspaces\": [\"acme\"]}; got: "
            ~ text[:200]
        ) }}
    {%- endif -%}
    {%- set value = run_vars.get(name) -%}
    {{ return(default if value is none else value) }}
{%- endmacro %}
