-- England figures against totals taken straight from the record-level sources (docs/ARCHITECTURE.md:
-- England counts every record, in a PCN or not). A difference means a join dropped or
-- duplicated records on the way to the published England value.
with

england as (
    select indicator_id, numerator, denominator,
    from {{ ref('int_indicator_counts') }}
    where geography_type = 'england'
    qualify period_start = max(period_start) over (partition by indicator_id)
),

qof as (
    select
        registers.indicator_id,
        sum(qof.register_count) as numerator,
        sum(qof.practice_list_size) as denominator,
    from {{ ref('stg_qof__prevalence_registers') }} as qof
    inner join {{ ref('indicator_qof_registers') }} as registers
        on qof.group_code = registers.group_code
        and qof.patient_list_type = registers.patient_list_type
    where qof.vintage = (select max(vintage) from {{ ref('stg_qof__prevalence_registers') }})
    group by registers.indicator_id
),

registered as (
    select sum(registered_patients) as patients from {{ ref('int_practice_list_sizes') }}
),

pcn_staff as (
    select roles.indicator_id, sum(workforce.fte) as numerator,
    from {{ ref('int_pcn_workforce_fte_by_role_group') }} as workforce
    inner join {{ ref('indicator_role_groups') }} as roles using (role_group)
    where workforce.vintage
        = (select max(vintage) from {{ ref('int_pcn_workforce_fte_by_role_group') }})
    group by roles.indicator_id
),

pcn_staff_indicators as (
    select distinct
        roles.indicator_id,
        coalesce(pcn_staff.numerator, 0) as numerator,
        registered.patients as denominator,
    from {{ ref('indicator_role_groups') }} as roles
    cross join registered
    left join pcn_staff using (indicator_id)
),

-- GP FTE counts practices with a GP figure and a list (methods: the publisher's own rates)
gp_staff as (
    select 'gp_fte_per_10k' as indicator_id, sum(total_gp_fte) as numerator,
        sum(total_patients) as denominator,
    from {{ ref('stg_gp_workforce__practice_ftes') }}
    where total_gp_fte is not null and total_patients > 0
        and vintage = (select max(vintage) from {{ ref('stg_gp_workforce__practice_ftes') }})
    having count(*) > 0
),

source_totals as (
    select * from qof
    union all
    select * from pcn_staff_indicators
    union all
    select * from gp_staff
)

select
    source_totals.indicator_id,
    england.numerator as england_numerator,
    source_totals.numerator as source_numerator,
    england.denominator as england_denominator,
    source_totals.denominator as source_denominator,
    abs(coalesce(england.numerator, 0) - source_totals.numerator) as numerator_difference,
    abs(coalesce(england.denominator, 0) - source_totals.denominator) as denominator_difference,
from source_totals
left join england using (indicator_id)
order by source_totals.indicator_id
