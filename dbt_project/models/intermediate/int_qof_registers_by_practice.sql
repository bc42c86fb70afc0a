-- QOF registers used by the indicators, one row per practice, from the latest QOF year on or
-- before the period: MH counts against the TOTAL list, DEP against the 18OV list.
select
    practice_code,
    period_start,
    period_end,
    vintage,
    any_value(source_status) as source_status,
    max(case when group_code = 'MH' then register_count end) as mh_register,
    max(case when group_code = 'MH' then practice_list_size end) as total_list,
    max(case when group_code = 'DEP' then register_count end) as dep_register,
    max(case when group_code = 'DEP' then practice_list_size end) as list_18ov,
from {{ ref('stg_qof__prevalence_registers') }}
where group_code in ('MH', 'DEP')
group by practice_code, period_start, period_end, vintage
qualify vintage = max(vintage) over ()
