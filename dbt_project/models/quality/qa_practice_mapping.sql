-- Share of the practices in the latest list-size extract that the membership places in a PCN
-- open at the reference date: a low share means the membership source and the list sizes
-- do not join (a changed code format, a stale practice map), and PCN figures would be too low.
with

list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
open_pcns as (select pcn_code from {{ ref('dim_pcns') }} where is_open_in_epcn or has_member_practices)

select
    count(*) as practices_listed,
    count(*) filter (where open_pcns.pcn_code is not null) as practices_in_open_pcn,
    count(*) filter (where open_pcns.pcn_code is not null) / count(*) as share_in_open_pcn,
    sum(list_sizes.registered_patients) as patients_listed,
    sum(list_sizes.registered_patients) filter (where open_pcns.pcn_code is not null)
        / sum(list_sizes.registered_patients) as patient_share_in_open_pcn,
from list_sizes
left join members using (practice_code)
left join open_pcns on open_pcns.pcn_code = members.pcn_code
