-- Context of every PCN with member practices, for peer groups (docs/ARCHITECTURE.md "Statistics"): list size,
-- deprivation and age mix - never the indicators being compared. Each value is taken over the member
-- practices that have it; it counts only when those practices hold at least half of the PCN's registered
-- patients, and a PCN lacking any of the four values gets no peers (has_full_context = false).
with

members as (
    select practice_code, pcn_code,
    from {{ ref('int_practices_joined_to_pcns') }}
    where pcn_code is not null
),

list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),

imd as (
    select practice_code, imd_score,
    from {{ ref('stg_imd__practice_scores') }}
    where imd_score is not null
    qualify vintage = max(vintage) over ()
),

-- quin-age holds MALE and FEMALE rows per 5-year band plus the publisher's subtotals (sex ALL and
-- age ALL); summing the band rows of every sex other than ALL counts each patient exactly once
age_bands as (
    select
        practice_code,
        sum(registered_patients) as banded_patients,
        coalesce(sum(registered_patients) filter (where age_group in ('0_4', '5_9', '10_14')), 0)
            as under_15,
        coalesce(sum(registered_patients) filter (
            where age_group in ('65_69', '70_74', '75_79', '80_84', '85_89', '90_94', '95+')
        ), 0) as aged_65_and_over,
    from {{ ref('stg_gp_registrations__age_bands') }}
    where sex <> 'ALL' and age_group <> 'ALL'
    group by practice_code, vintage
    qualify vintage = max(vintage) over ()
),

practices as (
    select
        members.pcn_code,
        members.practice_code,
        list_sizes.registered_patients,
        imd.imd_score,
        age_bands.banded_patients,
        age_bands.under_15,
        age_bands.aged_65_and_over,
    from members
    left join list_sizes using (practice_code)
    left join imd using (practice_code)
    left join age_bands using (practice_code)
),

pcns as (
    select
        pcn_code,
        count(*) as practice_count,
        sum(registered_patients)::bigint as registered_patients,
        -- IMD 2019 score weighted by registered patients (a practice without a list size cannot be weighted)
        sum(imd_score * registered_patients)
            / nullif(sum(registered_patients) filter (where imd_score is not null), 0) as imd_score,
        count(*) filter (where imd_score is null) as practices_without_imd_score,
        sum(registered_patients) filter (where imd_score is not null)
            / nullif(sum(registered_patients), 0) as imd_coverage,
        100.0 * sum(under_15) / nullif(sum(banded_patients), 0) as pct_under_15,
        100.0 * sum(aged_65_and_over) / nullif(sum(banded_patients), 0) as pct_65_and_over,
        count(*) filter (where banded_patients is null) as practices_without_age_bands,
        sum(registered_patients) filter (where banded_patients is not null)
            / nullif(sum(registered_patients), 0) as age_coverage,
    from practices
    group by pcn_code
)

select
    pcn_code,
    practice_count,
    registered_patients,
    round(imd_score, 10) as imd_score,
    round(pct_under_15, 10) as pct_under_15,
    round(pct_65_and_over, 10) as pct_65_and_over,
    practices_without_imd_score,
    practices_without_age_bands,
    round(coalesce(imd_coverage, 0), 10) as imd_coverage,
    round(coalesce(age_coverage, 0), 10) as age_coverage,
    coalesce(
        registered_patients > 0
        and imd_score is not null and imd_coverage >= 0.5
        and pct_under_15 is not null and pct_65_and_over is not null and age_coverage >= 0.5,
        false
    ) as has_full_context,
from pcns
