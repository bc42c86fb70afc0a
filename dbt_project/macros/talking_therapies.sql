{#- The level NHS Talking Therapies figures come from: 'sub_icb' when the monthly file carries
    SubICB figures, else 'icb' (the annual report). A scalar subquery on the monthly staging. -#}
{%- macro talking_therapies_area_level() -%}
    (
        select
            case
                when exists (
                    select 1 from {{ ref('stg_talking_therapies__monthly_measures') }}
                    where group_type = 'SubICB' and value is not null
                ) then 'sub_icb'
                else 'icb'
            end
    )
{%- endmacro -%}
