{#-
    The statements the workspace access layer runs for a few example workspace ids (see
    macros/access/workspace_access.sql), rendered for the target: `dbt compile --select workspace_access_statements`
    shows them without touching the warehouse. The tests compile it for BigQuery and parse every statement.
-#}
{%- set marts = sentrum.mart_nodes() if execute else [] -%}
{%- set statements = [] -%}
{%- for workspace_id in sentrum.checked_workspace_ids(['acme', 'acme-eu', 'acme_eu']) -%}
    {%- do statements.extend(sentrum.workspace_access_statements(workspace_id, marts)) -%}
{%- endfor -%}
{{ statements | join(';\n\n') }}
