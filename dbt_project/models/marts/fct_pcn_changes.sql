-- PCNs opened and closed, as ODS ePCN dates them (the newest ePCN file landed on or before the
-- period), with where a closed PCN's practices went: the PCN each practice joined within 31 days
-- of leaving it. The changes page shows the events between the previous period's reference date
-- and this one; every closed PCN keeps a page saying where its practices went.
with

epcn_pcns as (
    select * from {{ ref('stg_ods_epcn__pcns') }}
    qualify vintage = max(vintage) over ()
),

spells as (
    select * from {{ ref('stg_ods_epcn__relationships') }}
    qualify vintage = max(vintage) over ()
),

published as (
    select pcn_code from {{ ref('dim_pcns') }}
),

closed as (
    select pcn_code, pcn_name, sub_icb_code, close_date, vintage,
    from epcn_pcns
    where close_date is not null and close_date <= {{ reference_date() }}
        and pcn_code not in (select pcn_code from published)
),

-- a practice leaving a closed PCN, and the PCN it joined next (if any, within 31 days)
moves as (
    select
        closed.pcn_code,
        left_spell.practice_code,
        next_spell.pcn_code as joined_pcn_code,
    from closed
    join spells as left_spell
        on left_spell.pcn_code = closed.pcn_code and left_spell.end_date is not null
    left join spells as next_spell
        on next_spell.practice_code = left_spell.practice_code
        and next_spell.pcn_code <> closed.pcn_code
        and next_spell.start_date between left_spell.end_date - interval 1 day
            and left_spell.end_date + interval 31 day
    qualify row_number() over (
        partition by closed.pcn_code, left_spell.practice_code
        order by next_spell.start_date desc nulls last, next_spell.pcn_code
    ) = 1
),

successors as (
    select
        moves.pcn_code,
        count(distinct moves.practice_code) as practices_left,
        count(distinct moves.joined_pcn_code) as successor_count,
        -- "U1|Name 1;U2|Name 2", in code order (deterministic)
        string_agg(distinct moves.joined_pcn_code || '|' || coalesce(joined.pcn_name, ''), ';'
            order by moves.joined_pcn_code || '|' || coalesce(joined.pcn_name, '')) as successors,
    from moves
    left join epcn_pcns as joined on joined.pcn_code = moves.joined_pcn_code
    group by moves.pcn_code
)

select
    closed.pcn_code,
    closed.pcn_name,
    closed.sub_icb_code,
    'closed' as change_type,
    closed.close_date as change_date,
    case
        when coalesce(successors.successor_count, 0) = 0 then 'closed'
        when successors.successor_count = 1 then 'merged'
        else 'split'
    end as outcome,
    coalesce(successors.practices_left, 0)::integer as practices_left,
    successors.successors,
    closed.vintage as epcn_vintage,
from closed
left join successors using (pcn_code)

union all

select
    pcn_code,
    pcn_name,
    sub_icb_code,
    'opened' as change_type,
    open_date as change_date,
    'opened' as outcome,
    0 as practices_left,
    null as successors,
    vintage as epcn_vintage,
from epcn_pcns
where open_date <= {{ reference_date() }}

order by change_date desc, pcn_code
