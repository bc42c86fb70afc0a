{#- Statistics of English public-health practice (docs/ARCHITECTURE.md "Statistics"). -#}

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
    (per unit of denominator), r0 +/- z sqrt(r0 / n), never below 0.
    For proportions this is the Fingertips funnel (PHStatsMethods' calculate_funnel_limits: the
    proportions whose Wilson score interval just reaches p0, which is algebraically the same
    expression); tests/integration/test_fingertips_oracle.py checks every published limit. -#}
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

{#- Over-dispersion of PCN proportions (Spiegelhalter 2005, "Funnel plots for comparing
    institutional performance", Stat Med 24:1185; NHS-R FunnelPlotR's choices for proportions):
    each unit's z-score on the arcsine-square-root scale, where a proportion from a denominator n
    has standard error 1 / (2 sqrt(n)) whatever its value:
        z = (asin(sqrt(numerator / n)) - asin(sqrt(target))) * 2 sqrt(n)
    (target a proportion, 0-1; a numerator above its denominator counts as 1). -#}
{%- macro arcsine_z(numerator, denominator, target) -%}
    case when ({{ denominator }}) > 0 and ({{ numerator }}) >= 0 and ({{ target }}) between 0 and 1 then
        (asin(sqrt(least(1.0, ({{ numerator }})::double / ({{ denominator }}))))
            - asin(sqrt({{ target }}))) * 2 * sqrt(({{ denominator }})::double)
    end
{%- endmacro -%}

{#- Random-effects (additive) over-dispersion-adjusted funnel limit for a proportion, as FunnelPlotR
    forms it: sin(asin(sqrt(target)) -/+ z sqrt(1 / (4n) + tau2))^2, as a proportion (0-1).
    Where the angle passes 0 (or pi/2) the limit is 0 (or 1): squaring the sine would fold it
    back (FunnelPlotR truncates the non-monotonic part of the curve to the same 0 and 1). -#}
{%- macro adjusted_funnel_limit(target, denominator, tau2, level, side) -%}
    case
        when ({{ target }}) is null or ({{ tau2 }}) is null
            or not coalesce(({{ denominator }}) > 0, false) then null
        {% if side == 'lower' -%}
        when asin(sqrt({{ target }})) - {{ z_value(level) }}
            * sqrt(1 / (4 * ({{ denominator }})::double) + ({{ tau2 }})) <= 0 then 0.0
        else power(sin(asin(sqrt({{ target }})) - {{ z_value(level) }}
            * sqrt(1 / (4 * ({{ denominator }})::double) + ({{ tau2 }}))), 2)
        {%- else -%}
        when asin(sqrt({{ target }})) + {{ z_value(level) }}
            * sqrt(1 / (4 * ({{ denominator }})::double) + ({{ tau2 }})) >= pi() / 2 then 1.0
        else power(sin(asin(sqrt({{ target }})) + {{ z_value(level) }}
            * sqrt(1 / (4 * ({{ denominator }})::double) + ({{ tau2 }}))), 2)
        {%- endif %}
    end
{%- endmacro -%}
