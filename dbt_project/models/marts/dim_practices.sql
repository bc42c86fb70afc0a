-- The practice-to-PCN lookup used for this period (also published as a download).
select
    members.practice_code,
    members.practice_name,
    members.pcn_code,
    members.sub_icb_code,
    members.icb_code,
    list_sizes.registered_patients::bigint as registered_patients,
    members.membership_source,
    members.membership_vintage,
from {{ ref('int_practices_joined_to_pcns') }} as members
left join {{ ref('int_practice_list_sizes') }} as list_sizes using (practice_code)
order by members.practice_code
