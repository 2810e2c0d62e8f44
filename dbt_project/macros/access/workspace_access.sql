{#
    The per-workspace access layer: for each active workspace, a schema (DuckDB) / dataset (BigQuery) holding one view
    per mart, filtered on that workspace_id. Analysts and the app read their workspace's views, never the marts.

    - DuckDB: schema `ws_<escaped id>` (escaping below), e.g. ws_acme.fct_ad_insights_daily, ws_acme_heu for `acme-eu`;
      an id whose escaped form would pass 128 characters gets a shortened name with a digest (below).
    - BigQuery: dataset `<prefix>ws_<escaped id>` (dataset names allow only letters, digits and underscores, so `_` is
      written `__` and `-` is written `_h`, which keeps two different ids from sharing a dataset), e.g.
      sentrum_ws_acme, sentrum_ws_acme_heu for `acme-eu`, sentrum_ws_acme__eu for `acme_eu`. The dataset is
      authorized on the marts dataset (an "authorized dataset": its views may read the marts while their readers
      cannot), and var `sentrum_workspace_readers` ({workspace_id: ["group:..."]}) grants BigQuery Data Viewer on it.
      Views, unlike row access policies, survive the marts' CREATE OR REPLACE (dimensions are rebuilt every night), so
      there is no window in which a rebuilt table is readable unfiltered.

    Active workspaces: `sentrum_workspaces` (a list of ids: a var, or SENTRUM_DBT_WORKSPACES as the orchestrator
    passes it, macros/vars/run_var.sql), or the `workspaces` argument. Access schemas of workspaces no longer in the
    list (deleted, deletion requested) are dropped, so the list must be complete.

    Invocation:
    - on-run-end of `dbt build` / `dbt run` when `sentrum_workspaces` is set (dbt_project.yml): the nightly passes it
      with the window and needs no second dbt call. Unset (CI, ad-hoc runs): nothing happens.
    - or explicitly: dbt run-operation sentrum_apply_workspace_access --vars '{sentrum_workspaces: [acme, globex]}'
      (`--args '{dry_run: true}'` only logs the statements).
#}


{% macro sentrum_apply_workspace_access(workspaces=none, dry_run=false) -%}
    {%- set requested = workspaces if workspaces is not none else sentrum.run_var('sentrum_workspaces') -%}
    {%- if requested is none -%}
        {{ exceptions.raise_compiler_error(
            "no workspaces given: pass var sentrum_workspaces (a list of workspace ids, [] for none)"
        ) }}
    {%- endif -%}
    {%- do sentrum.apply_workspace_access(sentrum.checked_workspace_ids(requested), dry_run) -%}
{%- endmacro %}


{#
    on-run-end: applies the layer after `dbt build` / `dbt run` when sentrum_workspaces is set. Read only at execution
    (dbt renders the hook at parse time too): the ids never enter dbt's saved parse (macros/vars/run_var.sql).
#}
{% macro apply_workspace_access_on_run_end() -%}
    {%- set requested = sentrum.run_var('sentrum_workspaces') if execute else none -%}
    {%- if requested is not none and flags.WHICH in ('build', 'run') -%}
        {%- do sentrum.apply_workspace_access(sentrum.checked_workspace_ids(requested), false) -%}
    {%- endif -%}
    {#- the statements ran (and were committed) above: the hook renders no SQL of its own -#}
{%- endmacro %}


{% macro apply_workspace_access(workspace_ids, dry_run=false) -%}
    {%- set marts = sentrum.mart_nodes() -%}
    {%- set built = [] -%}
    {%- for node in marts -%}
        {%- if dry_run or adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- do built.append(node) -%}
        {%- else -%}
            {%- do log("workspace access: mart " ~ node.alias ~ " is not built yet; no view for it", info=true) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set wanted = {} -%}
    {%- for workspace_id in workspace_ids -%}
        {%- do wanted.update({sentrum.access_schema_name(workspace_id): workspace_id}) -%}
    {%- endfor -%}

    {%- set statements = [] -%}
    {%- for workspace_id in workspace_ids -%}
        {%- do statements.extend(sentrum.workspace_access_statements(workspace_id, built)) -%}
    {%- endfor -%}
    {%- if not dry_run -%}
        {%- for schema in sentrum.existing_access_schemas() -%}
            {%- if schema not in wanted -%}
                {%- do statements.append(sentrum.drop_access_schema_sql(schema)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {%- for statement in statements -%}
        {%- if dry_run -%}
            {%- do log(statement ~ ';', info=true) -%}
        {%- else -%}
            {%- do run_query(statement) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not dry_run -%}
        {%- do sentrum.finish_workspace_access(workspace_ids, built) -%}
        {#- run_query opens a transaction on DuckDB (a no-op on BigQuery): make sure one is open, then commit it -#}
        {%- do run_query('select 1 as sentrum_workspace_access') -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {%- do log(
        "workspace access: " ~ workspace_ids | length ~ " workspace(s) x " ~ built | length ~ " mart(s)"
        ~ (" (dry run)" if dry_run else ""), info=true
    ) -%}
{%- endmacro %}


{# Workspace ids from a var or an argument: a list of `[a-z0-9_-]{1,64}` strings (a bad id is an error, never SQL). #}
{% macro checked_workspace_ids(value) -%}
    {%- if value is string or value is mapping or value is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "sentrum_workspaces must be a list of workspace ids, e.g. [acme, globex]; got: " ~ value
        ) }}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- for item in value -%}
        {%- set workspace_id = item | string -%}
        {%- if item is none or not modules.re.fullmatch('[a-z0-9_-]{1,64}', workspace_id) -%}
            {{ exceptions.raise_compiler_error(
                "invalid workspace id '" ~ workspace_id ~ "': workspace ids match [a-z0-9_-]{1,64}"
            ) }}
        {%- endif -%}
        {%- if workspace_id not in ids -%}
            {%- do ids.append(workspace_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ids | sort) }}
{%- endmacro %}


{# The project's marts (models under models/marts), sorted by name. #}
{% macro mart_nodes() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name and node.fqn[1] == 'marts'
            and node.config.enabled -%}
            {%- do marts.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(marts | sort(attribute='name')) }}
{%- endmacro %}


{# ---- names #}

{% macro access_schema_name(workspace_id) -%}
    {{ return(adapter.dispatch('access_schema_name', 'sentrum')(workspace_id)) }}
{%- endmacro %}

{#
    Schema / dataset names are plain identifiers on every backend (BigQuery datasets allow no hyphen, and the retention
    sweep's catalog walk addresses only plain identifiers of at most 128 characters): an id's `_` is written `__` and
    `-` is written `_h`, which keeps two different ids from sharing a name (`acme-eu` -> ws_acme_heu, `acme_eu` ->
    ws_acme__eu). Escaping can double an id's length (64 `-` -> 128 characters), so a name that would pass 128
    characters is cut instead: the escaped id's start (at most 91 characters, never inside an escape), then `_x`, then
    the MD5 of the whole id (32 hex digits). `_x` never follows a whole escape in the short form (an escape is `__`
    or `_h`), so a long id's name cannot equal a short id's, and two long ids share a name only if their MD5s
    collide. warehouse/access.py computes the same names (the retention sweep drops a deleted workspace's schema).
#}
{% macro access_schema_suffix(workspace_id) -%}
    {%- set escaped = workspace_id | replace('_', '__') | replace('-', '_h') -%}
    {%- if (escaped | length) + 3 <= 128 -%}
        {{ return('ws_' ~ escaped) }}
    {%- endif -%}
    {%- set state = namespace(prefix='', full=false) -%}
    {%- for char in workspace_id -%}
        {%- set piece = '__' if char == '_' else ('_h' if char == '-' else char) -%}
        {%- if not state.full and (state.prefix | length) + (piece | length) <= 91 -%}
            {%- set state.prefix = state.prefix ~ piece -%}
        {%- else -%}
            {%- set state.full = true -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('ws_' ~ state.prefix ~ '_x' ~ local_md5(workspace_id)) }}
{%- endmacro %}

{% macro default__access_schema_name(workspace_id) -%}
    {{ return(sentrum.access_schema_suffix(workspace_id)) }}
{%- endmacro %}

{% macro bigquery__access_schema_name(workspace_id) -%}
    {{ return(sentrum.bigquery_dataset_prefix() ~ sentrum.access_schema_suffix(workspace_id)) }}
{%- endmacro %}


{# The prefix shared by every access schema (to find stale ones). #}
{% macro access_schema_prefix() -%}
    {{ return(adapter.dispatch('access_schema_prefix', 'sentrum')()) }}
{%- endmacro %}

{% macro default__access_schema_prefix() -%}
    {{ return('ws_') }}
{%- endmacro %}

{% macro bigquery__access_schema_prefix() -%}
    {{ return(sentrum.bigquery_dataset_prefix() ~ 'ws_') }}
{%- endmacro %}


{# ---- statements #}

{% macro workspace_access_statements(workspace_id, marts) -%}
    {{ return(adapter.dispatch('workspace_access_statements', 'sentrum')(workspace_id, marts)) }}
{%- endmacro %}

{#
    DuckDB: views name the marts without a catalog, so they keep working when the database file is attached under
    another name (a copy, `duckdb other.duckdb`).
#}
{% macro default__workspace_access_statements(workspace_id, marts) -%}
    {%- set schema = adapter.quote(sentrum.access_schema_name(workspace_id)) -%}
    {%- set statements = ['create schema if not exists ' ~ schema] -%}
    {%- for node in marts -%}
        {%- do statements.append(
            'create or replace view ' ~ schema ~ '.' ~ adapter.quote(node.alias) ~ ' as\n'
            ~ 'select * from ' ~ adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) ~ '\n'
            ~ 'where workspace_id = ' ~ sentrum.string_literal(workspace_id)
        ) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{% macro bigquery__workspace_access_statements(workspace_id, marts) -%}
    {%- set dataset = sentrum.access_schema_name(workspace_id) -%}
    {%- set schema = adapter.quote(target.project) ~ '.' ~ adapter.quote(dataset) -%}
    {%- set statements = [
        'create schema if not exists ' ~ schema ~ ' options (location = '
        ~ sentrum.string_literal(target.location or 'US') ~ ')'
    ] -%}
    {%- for node in marts -%}
        {%- set mart = adapter.quote(node.database) ~ '.' ~ adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) -%}
        {%- do statements.append(
            'create or replace view ' ~ schema ~ '.' ~ adapter.quote(node.alias) ~ ' as\n'
            ~ 'select * from ' ~ mart ~ '\n'
            ~ 'where workspace_id = ' ~ sentrum.string_literal(workspace_id)
        ) -%}
    {%- endfor -%}
    {%- set readers = var('sentrum_workspace_readers', {}).get(workspace_id, []) -%}
    {%- if readers -%}
        {%- set principals = [] -%}
        {%- for reader in readers -%}
            {%- if not modules.re.fullmatch('(user|group|serviceAccount|domain):[A-Za-z0-9@._-]+', reader) -%}
                {{ exceptions.raise_compiler_error("invalid reader '" ~ reader ~ "' for workspace " ~ workspace_id) }}
            {%- endif -%}
            {%- do principals.append('"' ~ reader ~ '"') -%}
        {%- endfor -%}
        {%- do statements.append(
            'grant `roles/bigquery.dataViewer` on schema ' ~ schema ~ ' to ' ~ principals | join(', ')
        ) -%}
    {%- endif -%}
    {{ return(statements) }}
{%- endmacro %}


{% macro drop_access_schema_sql(schema) -%}
    {{ return(adapter.dispatch('drop_access_schema_sql', 'sentrum')(schema)) }}
{%- endmacro %}

{% macro default__drop_access_schema_sql(schema) -%}
    {{ return('drop schema if exists ' ~ adapter.quote(schema) ~ ' cascade') }}
{%- endmacro %}

{% macro bigquery__drop_access_schema_sql(schema) -%}
    {{ return('drop schema if exists ' ~ adapter.quote(target.project) ~ '.' ~ adapter.quote(schema) ~ ' cascade') }}
{%- endmacro %}


{# Existing access schemas (names starting with the access prefix). #}
{% macro existing_access_schemas() -%}
    {{ return(adapter.dispatch('existing_access_schemas', 'sentrum')()) }}
{%- endmacro %}

{% macro default__existing_access_schemas() -%}
    {%- set found = run_query(
        "select schema_name from information_schema.schemata where catalog_name = "
        ~ sentrum.string_literal(target.database) ~ " and schema_name like 'ws\\_%' escape '\\'"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{% macro bigquery__existing_access_schemas() -%}
    {%- set found = [] -%}
    {%- for schema in adapter.list_schemas(target.project) -%}
        {%- if schema.startswith(sentrum.access_schema_prefix()) -%}
            {%- do found.append(schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#
    After the statements: drop views of marts that no longer exist (DuckDB and BigQuery), and on BigQuery authorize
    each workspace dataset on the marts dataset (an API call, not SQL; idempotent).
#}
{% macro finish_workspace_access(workspace_ids, marts) -%}
    {{ return(adapter.dispatch('finish_workspace_access', 'sentrum')(workspace_ids, marts)) }}
{%- endmacro %}

{% macro default__finish_workspace_access(workspace_ids, marts) -%}
    {%- set names = marts | map(attribute='alias') | list -%}
    {%- for workspace_id in workspace_ids -%}
        {%- set schema = sentrum.access_schema_name(workspace_id) -%}
        {%- set views = run_query(
            "select table_name from information_schema.tables where table_catalog = "
            ~ sentrum.string_literal(target.database) ~ " and table_schema = " ~ sentrum.string_literal(schema)
        ).columns[0].values() -%}
        {%- for view in views -%}
            {%- if view not in names -%}
                {%- do run_query('drop view if exists ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(view)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{% macro bigquery__finish_workspace_access(workspace_ids, marts) -%}
    {%- set names = marts | map(attribute='alias') | list -%}
    {%- set marts_datasets = marts | map(attribute='schema') | unique | list -%}
    {%- for workspace_id in workspace_ids -%}
        {%- set dataset = sentrum.access_schema_name(workspace_id) -%}
        {%- set schema_relation = api.Relation.create(database=target.project, schema=dataset) -%}
        {%- for relation in adapter.list_relations_without_caching(schema_relation) -%}
            {%- if relation.identifier not in names -%}
                {%- do run_query('drop view if exists ' ~ adapter.quote(target.project) ~ '.' ~ adapter.quote(dataset)
                    ~ '.' ~ adapter.quote(relation.identifier)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for marts_dataset in marts_datasets -%}
            {%- do adapter.grant_access_to(
                {'dataset': {'projectId': target.project, 'datasetId': dataset}, 'targetTypes': ['VIEWS']},
                'dataset',
                none,
                {'project': target.project, 'dataset': marts_dataset}
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}
