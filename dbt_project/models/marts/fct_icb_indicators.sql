-- The same indicators at ICB level, with England as benchmark (published as a download).
with

values_ as (select * from {{ ref('int_indicator_values') }}),
icbs as (
    select icb_code, any_value(icb_name) as icb_name,
    from {{ ref('int_practices_joined_to_pcns') }}
    where icb_code is not null
    group by icb_code
),
england as (select * from values_ where geography_type = 'england')

select
    icb.geography_code as icb_code,
    icbs.icb_name,
    icb.indicator_id,
    icb.period_start,
    icb.period_end,
    icb.numerator,
    icb.denominator,
    icb.value,
    icb.lower_ci95,
    icb.upper_ci95,
    icb.lower_ci998,
    icb.upper_ci998,
    england.value as england_value,
    {{ compare_to('icb.lower_ci95', 'icb.upper_ci95', 'england.value') }} as compared_to_england,
    icb.is_suppressed,
    icb.source_status,
from values_ as icb
inner join icbs on icbs.icb_code = icb.geography_code
left join england
    on england.indicator_id = icb.indicator_id
    and england.period_start is not distinct from icb.period_start
where icb.geography_type = 'icb'
order by icb.geography_code, icb.indicator_id, icb.period_start
