-- Practices and PCNs that appear in one source but not in the membership (or the reverse):
-- counted and listed on the quality page, never silently dropped (docs/ARCHITECTURE.md "PCN membership").
with

pcns as (select * from {{ ref('dim_pcns') }}),
members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
qof as (select * from {{ ref('int_qof_registers_by_practice') }}),
workforce as (
    select pcn_code, round(sum(fte), 10) as fte,
    from {{ ref('int_pcn_workforce_fte_by_role_group') }}
    where vintage = (select max(vintage) from {{ ref('int_pcn_workforce_fte_by_role_group') }})
    group by pcn_code
)

select 'pcn_workforce' as source, 'pcn' as code_type, workforce.pcn_code as code,
    'PCN employs staff in the workforce file but is not in the membership' as reason,
    workforce.fte,
from workforce
anti join pcns using (pcn_code)

union all
select 'pcn_workforce', 'pcn', workforce.pcn_code,
    'PCN employs staff in the workforce file but has no practices in the membership',
    workforce.fte,
from workforce
inner join pcns using (pcn_code)
where not pcns.has_member_practices

union all
select 'pcn_workforce', 'pcn', pcns.pcn_code,
    'PCN has member practices but no staff record in the workforce census (not reported)', null,
from pcns
anti join workforce using (pcn_code)
where pcns.has_member_practices

union all
select 'ods_epcn', 'pcn', pcn_code, 'open in ODS ePCN but no practices in the membership', null,
from pcns
where not has_member_practices

union all
select 'gp_registrations', 'practice', members.practice_code, 'in the membership but no list size', null,
from members
anti join list_sizes using (practice_code)

union all
select 'gp_registrations', 'practice', list_sizes.practice_code, 'has a list size but is not in the membership', null,
from list_sizes
anti join members using (practice_code)

union all
select 'qof', 'practice', members.practice_code, 'in the membership but no QOF return for the year', null,
from members
anti join qof using (practice_code)
where members.pcn_code is not null

order by 1, 2, 4, 3
