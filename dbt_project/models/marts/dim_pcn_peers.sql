-- Each PCN's 10 peers (nearest on standardised context) with the context of both, so the report can
-- show why they are peers. PCNs without full context have no rows (see int_pcn_context).
with

peers as (select * from {{ ref('int_pcn_peers') }}),
context as (select * from {{ ref('int_pcn_context') }}),
pcns as (select * from {{ ref('dim_pcns') }})

select
    peers.pcn_code,
    peers.peer_rank,
    peers.peer_pcn_code,
    peer_pcns.pcn_name as peer_pcn_name,
    peer_pcns.icb_code as peer_icb_code,
    peer_pcns.icb_name as peer_icb_name,
    peers.distance,
    pcn_context.registered_patients as registered_patients,
    pcn_context.imd_score as imd_score,
    pcn_context.pct_under_15 as pct_under_15,
    pcn_context.pct_65_and_over as pct_65_and_over,
    peer_context.registered_patients as peer_registered_patients,
    peer_context.imd_score as peer_imd_score,
    peer_context.pct_under_15 as peer_pct_under_15,
    peer_context.pct_65_and_over as peer_pct_65_and_over,
from peers
inner join context as pcn_context on pcn_context.pcn_code = peers.pcn_code
inner join context as peer_context on peer_context.pcn_code = peers.peer_pcn_code
left join pcns as peer_pcns on peer_pcns.pcn_code = peers.peer_pcn_code
order by peers.pcn_code, peers.peer_rank
