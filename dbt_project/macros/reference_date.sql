{#- Last day of the publication month: membership and "open" are decided at this date. -#}
{%- macro reference_date() -%}
    last_day(cast('{{ var("period") }}-01' as date))
{%- endmacro -%}
