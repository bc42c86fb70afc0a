-- Each PCN's 10 nearest neighbours on standardised context (docs/ARCHITECTURE.md "Statistics"): Euclidean distance
-- over the z-scores of IMD score, log list size, % under 15 and % aged 65 and over, each variable weighted
-- equally. Only PCNs with full context take part, as PCN and as peer. Deterministic: distances are rounded
-- to 10 decimals before ranking and equal distances are broken by peer code. The 10 is the var
-- peer_group_size (default 10) only so that a unit test can check the cut-off with a handful of PCNs.
with

context as (
    select * from {{ ref('int_pcn_context') }}
    where has_full_context
),

-- list size on a log scale: PCN lists are right-skewed (about 8,000 to 200,000 patients), and a PCN of
-- 20,000 is as different from one of 40,000 as 50,000 is from 100,000 in how it can organise services;
-- on the raw scale the few very large PCNs would dominate the size dimension
variables as (
    select
        pcn_code,
        imd_score,
        ln(registered_patients) as log_list_size,
        pct_under_15,
        pct_65_and_over,
    from context
),

-- population standard deviation: the PCNs are the whole population, not a sample of it. Means and
-- standard deviations are rounded so that the order in which parallel aggregation adds up rows can never
-- move a distance.
moments as (
    select
        round(avg(imd_score), 10) as imd_mean,
        round(stddev_pop(imd_score), 10) as imd_sd,
        round(avg(log_list_size), 10) as size_mean,
        round(stddev_pop(log_list_size), 10) as size_sd,
        round(avg(pct_under_15), 10) as under_15_mean,
        round(stddev_pop(pct_under_15), 10) as under_15_sd,
        round(avg(pct_65_and_over), 10) as over_65_mean,
        round(stddev_pop(pct_65_and_over), 10) as over_65_sd,
    from variables
),

-- a variable with no spread carries no information: its z-score is 0 for everyone
z_scores as (
    select
        variables.pcn_code,
        coalesce((variables.imd_score - moments.imd_mean) / nullif(moments.imd_sd, 0), 0) as z_imd,
        coalesce((variables.log_list_size - moments.size_mean) / nullif(moments.size_sd, 0), 0) as z_size,
        coalesce((variables.pct_under_15 - moments.under_15_mean) / nullif(moments.under_15_sd, 0), 0)
            as z_under_15,
        coalesce((variables.pct_65_and_over - moments.over_65_mean) / nullif(moments.over_65_sd, 0), 0)
            as z_over_65,
    from variables
    cross join moments
),

distances as (
    select
        pcn.pcn_code,
        peer.pcn_code as peer_pcn_code,
        round(sqrt(
            power(pcn.z_imd - peer.z_imd, 2)
            + power(pcn.z_size - peer.z_size, 2)
            + power(pcn.z_under_15 - peer.z_under_15, 2)
            + power(pcn.z_over_65 - peer.z_over_65, 2)
        ), 10) as distance,
    from z_scores as pcn
    inner join z_scores as peer on peer.pcn_code <> pcn.pcn_code
)

select
    pcn_code,
    row_number() over (partition by pcn_code order by distance, peer_pcn_code)::integer as peer_rank,
    peer_pcn_code,
    distance,
from distances
qualify peer_rank <= {{ var('peer_group_size', 10) }}
