{#- Statistics of English public-health practice (DESIGN.md "Statistics"). -#}

{%- macro z_value(level) -%}
    {%- if level == 95 -%} 1.959963984540054
    {%- elif level == 99.8 -%} 3.090232306167813
    {%- else -%} {{ exceptions.raise_compiler_error("z_value: level must be 95 or 99.8") }}
    {%- endif -%}
{%- endmacro -%}

{#- Wilson score interval for a proportion numerator / denominator, as a proportion (0-1),
    clamped to [0, 1] so that floating point never gives -0.0 or 1.0000000001. -#}
{%- macro wilson_lower(numerator, denominator, level) -%}
    case when {{ denominator }} > 0 then greatest(0.0,
        (
            ({{ numerator }})::double / ({{ denominator }})
            + power({{ z_value(level) }}, 2) / (2 * ({{ denominator }}))
            - {{ z_value(level) }} * sqrt(
                ({{ numerator }})::double / ({{ denominator }})
                * (1 - ({{ numerator }})::double / ({{ denominator }})) / ({{ denominator }})
                + power({{ z_value(level) }}, 2) / (4 * power({{ denominator }}, 2))
            )
        ) / (1 + power({{ z_value(level) }}, 2) / ({{ denominator }}))
    ) end
{%- endmacro -%}

{%- macro wilson_upper(numerator, denominator, level) -%}
    case when {{ denominator }} > 0 then least(1.0,
        (
            ({{ numerator }})::double / ({{ denominator }})
            + power({{ z_value(level) }}, 2) / (2 * ({{ denominator }}))
            + {{ z_value(level) }} * sqrt(
                ({{ numerator }})::double / ({{ denominator }})
                * (1 - ({{ numerator }})::double / ({{ denominator }})) / ({{ denominator }})
                + power({{ z_value(level) }}, 2) / (4 * power({{ denominator }}, 2))
            )
        ) / (1 + power({{ z_value(level) }}, 2) / ({{ denominator }}))
    ) end
{%- endmacro -%}

{#- "higher" / "lower" when the 95% interval excludes the benchmark, else "similar";
    "not compared" when the value, its interval or the benchmark is missing. -#}
{%- macro compare_to(lower, upper, benchmark) -%}
    case
        when {{ lower }} is null or {{ upper }} is null or {{ benchmark }} is null then 'not compared'
        when {{ lower }} > {{ benchmark }} then 'higher'
        when {{ upper }} < {{ benchmark }} then 'lower'
        else 'similar'
    end
{%- endmacro -%}

{#- Counts 1-4 are suppressed (0 and 5+ are shown as the source publishes them). -#}
{%- macro is_small_count(count) -%}
    ({{ count }} between 1 and 4)
{%- endmacro -%}

{#- Funnel plot control limits around a benchmark for a unit with `denominator` (normal
    approximation, as English public-health funnel plots draw them): for a proportion p0
    (0-1), p0 +/- z sqrt(p0 (1 - p0) / n), clamped to [0, 1]; for a rate of counted events r0
    (per unit of denominator), r0 +/- z sqrt(r0 / n), never below 0. -#}
{%- macro funnel_limit(method, benchmark, denominator, level, side) -%}
    case
        when {{ benchmark }} is null or not coalesce({{ denominator }}, 0) > 0 then null
        when {{ method }} = 'wilson' then
            {% if side == 'lower' %}greatest(0.0,{% else %}least(1.0,{% endif %}
                {{ benchmark }} {{ '-' if side == 'lower' else '+' }} {{ z_value(level) }}
                * sqrt({{ benchmark }} * (1 - {{ benchmark }}) / {{ denominator }}))
        when {{ method }} = 'byar' then
            greatest(0.0, {{ benchmark }} {{ '-' if side == 'lower' else '+' }} {{ z_value(level) }}
                * sqrt({{ benchmark }} / {{ denominator }}))
    end
{%- endmacro -%}
