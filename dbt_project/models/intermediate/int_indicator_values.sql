-- a table, not a view: four models read it, and as a view each would rebuild every count
{{ config(materialized="table") }}

-- Value, 95% and 99.8% limits and suppression of every indicator count, in display units
-- (the catalogue's multiplier applied), rounded to 10 decimals. Wilson for proportions; Byar
-- (exact Poisson below 10 events) for rates of counted events, whose limits are the count's
-- limits over the denominator; FTE rates get no interval.
with

counts as (select * from {{ ref('int_indicator_counts') }}),
catalogue as (select * from {{ ref('indicators') }}),
pcns as (select pcn_code, icb_code, from {{ ref('int_pcns_at_reference_date') }}),

primary_suppression as (
    select
        counts.*,
        pcns.icb_code,
        catalogue.method,
        catalogue.multiplier,
        catalogue.method in ('wilson', 'byar') and {{ is_small_count('counts.numerator') }}
            as is_primary,
    from counts
    inner join catalogue using (indicator_id)
    left join pcns
        on counts.geography_type = 'pcn' and pcns.pcn_code = counts.geography_code
),

-- a lone suppressed PCN in an ICB could be recovered from the ICB total minus the others:
-- then the ICB's next smallest PCN count is suppressed too (secondary suppression)
lone_suppressed as (
    select icb_code, indicator_id, period_start,
    from primary_suppression
    where geography_type = 'pcn' and icb_code is not null
    group by all
    having count(*) filter (where is_primary) = 1
),

secondary as (
    select rows_.geography_code, rows_.indicator_id, rows_.period_start, true as is_secondary,
    from primary_suppression as rows_
    inner join lone_suppressed
        on lone_suppressed.icb_code = rows_.icb_code
        and lone_suppressed.indicator_id = rows_.indicator_id
        and lone_suppressed.period_start is not distinct from rows_.period_start
    where rows_.geography_type = 'pcn' and not rows_.is_primary and rows_.numerator > 0
        and rows_.method in ('wilson', 'byar')
    qualify row_number() over (
        partition by rows_.icb_code, rows_.indicator_id, rows_.period_start
        order by rows_.numerator, rows_.geography_code
    ) = 1
),

joined as (
    select
        primary_suppression.* exclude (is_primary, icb_code),
        primary_suppression.is_primary or coalesce(secondary.is_secondary, false)
            as is_suppressed,
    from primary_suppression
    left join secondary
        on primary_suppression.geography_type = 'pcn'
        and secondary.geography_code = primary_suppression.geography_code
        and secondary.indicator_id = primary_suppression.indicator_id
        and secondary.period_start is not distinct from primary_suppression.period_start
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
    {% for level, suffix in [(95, '95'), (99.8, '998')] %}
    {% for side in ['lower', 'upper'] %}
    {% set wilson = wilson_lower if side == 'lower' else wilson_upper %}
    {% set byar = byar_lower if side == 'lower' else byar_upper %}
    case
        when method = 'wilson' and not is_suppressed
            then round({{ wilson('numerator', 'denominator', level) }} * multiplier, 10)
        when method = 'byar' and not is_suppressed and denominator > 0
            then round({{ byar('numerator', level) }} / denominator * multiplier, 10)
    end as {{ side }}_ci{{ suffix }},
    {% endfor %}
    {% endfor %}
    coalesce(is_suppressed, false) as is_suppressed,
    source_status,
    geography_level,
from joined
