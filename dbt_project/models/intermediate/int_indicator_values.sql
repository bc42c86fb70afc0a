-- Value, 95% and 99.8% limits and suppression of every indicator count, in display units
-- (the catalogue's multiplier applied), rounded to 10 decimals. Wilson for proportions; Byar
-- (exact Poisson below 10 events) for rates of counted events, whose limits are the count's
-- limits over the denominator; FTE rates get no interval.
with

counts as (select * from {{ ref('int_indicator_counts') }}),
catalogue as (select * from {{ ref('indicators') }}),

joined as (
    select
        counts.*,
        catalogue.method,
        catalogue.multiplier,
        catalogue.method in ('wilson', 'byar') and {{ is_small_count('counts.numerator') }}
            as is_suppressed,
    from counts
    inner join catalogue using (indicator_id)
)

select
    geography_type,
    geography_code,
    indicator_id,
    period_start,
    period_end,
    case when is_suppressed then null else numerator end as numerator,
    denominator,
    case
        when is_suppressed or not denominator > 0 then null
        else round(numerator / denominator * multiplier, 10)
    end as value,
    case
        when method = 'wilson' and not is_suppressed
            then round({{ wilson_lower('numerator', 'denominator', 95) }} * multiplier, 10)
        when method = 'byar' and not is_suppressed and denominator > 0
            then round({{ byar_lower('numerator', 95) }} / denominator * multiplier, 10)
    end as lower_ci95,
    case
        when method = 'wilson' and not is_suppressed
            then round({{ wilson_upper('numerator', 'denominator', 95) }} * multiplier, 10)
        when method = 'byar' and not is_suppressed and denominator > 0
            then round({{ byar_upper('numerator', 95) }} / denominator * multiplier, 10)
    end as upper_ci95,
    case
        when method = 'wilson' and not is_suppressed
            then round({{ wilson_lower('numerator', 'denominator', 99.8) }} * multiplier, 10)
        when method = 'byar' and not is_suppressed and denominator > 0
            then round({{ byar_lower('numerator', 99.8) }} / denominator * multiplier, 10)
    end as lower_ci998,
    case
        when method = 'wilson' and not is_suppressed
            then round({{ wilson_upper('numerator', 'denominator', 99.8) }} * multiplier, 10)
        when method = 'byar' and not is_suppressed and denominator > 0
            then round({{ byar_upper('numerator', 99.8) }} / denominator * multiplier, 10)
    end as upper_ci998,
    coalesce(is_suppressed, false) as is_suppressed,
    source_status,
    geography_level,
from joined
