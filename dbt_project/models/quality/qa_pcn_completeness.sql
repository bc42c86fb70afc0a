-- Rows each published PCN has in fct_pcn_indicators against the indicator-periods published:
-- every PCN must have exactly one row per indicator and period (a gap would hide a PCN).
with

pcns as (select pcn_code from {{ ref('dim_pcns') }}),
indicators as (select * from {{ ref('fct_pcn_indicators') }}),
expected as (
    select count(*) as expected_rows
    from (select distinct indicator_id, period_start from indicators)
)

select
    pcns.pcn_code,
    count(indicators.pcn_code) as indicator_rows,
    any_value(expected.expected_rows) as expected_rows,
from pcns
cross join expected
left join indicators using (pcn_code)
group by pcns.pcn_code
