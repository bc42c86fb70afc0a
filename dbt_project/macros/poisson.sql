{#- Limits of a Poisson count O (docs/ARCHITECTURE.md "Statistics": rates of counted events), as counts:
    rate limits = limit(O) / denominator * multiplier.
    - O >= 10: Byar's approximation (PHE "Technical Guide: Confidence intervals"):
        lower = O * (1 - 1/(9O) - z/(3 sqrt(O)))^3
        upper = (O+1) * (1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3
    - O < 10: the exact limits (Garwood, from the chi-square distribution):
        lower = chi2.ppf(a/2, 2O) / 2 (0 when O = 0), upper = chi2.ppf(1 - a/2, 2O + 2) / 2.
      DuckDB has no chi-square quantile, so they are a lookup generated with scipy
      (`python -m tests.unit.test_poisson_limits`, which also checks them). The lookup lives here,
      not in a seed, so that a unit test of a model using these macros needs no extra input.
      A non-whole count (a population-weighted blend) below 10 takes the exact limits of the
      nearest whole count; one that rounds to 10 or more uses Byar.
    - null or negative O: null. level is 95 or 99.8. -#}

{%- macro _exact_poisson_case(count, level, side) -%}
    {#- (lower, upper) for O = 0..9 -#}
    {%- set limits = {
        95: [
            (0.0, 3.6888794541139354),
            (0.025317807984289897, 5.571643390938898),
            (0.24220927854396507, 7.22468766772396),
            (0.6186721228956015, 8.767273069742323),
            (1.089865373626325, 10.241588675403694),
            (1.623486390118421, 11.66833207932267),
            (2.201894253490851, 13.059474022518685),
            (2.814363051519867, 14.422675361702376),
            (3.4538321767485023, 15.763189220193313),
            (4.115373097378334, 17.084803451419166),
        ],
        99.8: [
            (0.0, 6.907755278982137),
            (0.0010005003335835346, 9.233413476451585),
            (0.045402017769489565, 11.228872242412661),
            (0.19053337756840327, 13.06224077918807),
            (0.42855241362842295, 14.79414922253721),
            (0.7393717319178327, 16.454745203680105),
            (1.1071046602556396, 18.061636840199064),
            (1.5203362603988093, 19.626177395384232),
            (1.9708139217403662, 21.15619816583998),
            (2.452424404363775, 22.65737330906293),
        ],
    } -%}
    {%- if level not in limits -%}
        {{ exceptions.raise_compiler_error("poisson limits: level must be 95 or 99.8") }}
    {%- endif -%}
    case round({{ count }})
    {%- for pair in limits[level] %}
        when {{ loop.index0 }} then {{ pair[0] if side == 'lower' else pair[1] }}::double
    {%- endfor %}
    end
{%- endmacro -%}

{%- macro byar_lower(count, level) -%}
    case
        when ({{ count }}) is null or ({{ count }}) < 0 then null
        when round({{ count }}) >= 10 then
            ({{ count }})::double * power(
                1 - 1 / (9 * ({{ count }})::double)
                - {{ z_value(level) }} / (3 * sqrt(({{ count }})::double)),
                3
            )
        else {{ _exact_poisson_case(count, level, 'lower') }}
    end
{%- endmacro -%}

{%- macro byar_upper(count, level) -%}
    case
        when ({{ count }}) is null or ({{ count }}) < 0 then null
        when round({{ count }}) >= 10 then
            (({{ count }})::double + 1) * power(
                1 - 1 / (9 * (({{ count }})::double + 1))
                + {{ z_value(level) }} / (3 * sqrt(({{ count }})::double + 1)),
                3
            )
        else {{ _exact_poisson_case(count, level, 'upper') }}
    end
{%- endmacro -%}
