select
    practice_code,
    pcn_code,
    total_patients,
    total_gp_fte,
    total_nurses_fte,
    total_dpc_fte,
    total_admin_fte,
    total_dpc_splw_fte,
    total_dpc_thera_cou_fte,
    total_dpc_nhs_talking_thera_fte,
    vintage,
    source_status,
from {{ source('gp_workforce', 'practice_fte') }}
