namespace MetricCompiler.DemoData.Tests;

/// <summary>
/// The effects the demo must show, checked in direction and rough size on 20,000 users (about 5,000 exposed per arm for
/// homepage_cta) with SQL over the seeded tables: deduplicated events, first exposure only, multi-variant users excluded,
/// events from the first exposure to the end of the window.
/// </summary>
public sealed class PlantedEffectTests : IClassFixture<EffectDatabaseFixture>
{
    private const string HomepageCtaEnd = "2026-01-18 23:59:59";
    private const string OnboardingFlowEnd = "2026-01-25 23:59:59";

    private readonly SeededDatabase _database;

    public PlantedEffectTests(EffectDatabaseFixture fixture) => _database = fixture.Database;

    [Fact]
    public void Homepage_cta_treatment_raises_purchase_conversion_and_revenue_per_user()
    {
        var control = Outcomes("homepage_cta", "control", HomepageCtaEnd);
        var treatment = Outcomes("homepage_cta", "treatment", HomepageCtaEnd);

        Assert.True(treatment.PurchaseConversion > control.PurchaseConversion, $"conversion {treatment.PurchaseConversion:P2} vs {control.PurchaseConversion:P2}");
        Assert.True(treatment.RevenuePerUser > control.RevenuePerUser, $"revenue/user {treatment.RevenuePerUser:F2} vs {control.RevenuePerUser:F2}");
        Assert.True(treatment.ClicksPerUser > control.ClicksPerUser, $"clicks/user {treatment.ClicksPerUser:F3} vs {control.ClicksPerUser:F3}");
    }

    [Fact]
    public void Homepage_cta_does_no_harm_to_page_load_or_errors()
    {
        var control = Outcomes("homepage_cta", "control", HomepageCtaEnd);
        var treatment = Outcomes("homepage_cta", "treatment", HomepageCtaEnd);

        Assert.InRange(treatment.MeanPageLoadMs / control.MeanPageLoadMs, 0.97, 1.03);
        Assert.InRange(treatment.ErrorsPerUser / control.ErrorsPerUser, 0.8, 1.2);
    }

    [Fact]
    public void Onboarding_flow_streamlined_raises_sign_ups_but_slows_pages_and_raises_errors()
    {
        var control = Outcomes("onboarding_flow", "control", OnboardingFlowEnd);
        var streamlined = Outcomes("onboarding_flow", "streamlined", OnboardingFlowEnd);

        Assert.InRange(streamlined.SignUpConversion / control.SignUpConversion, 1.2, 2.2);
        Assert.InRange(streamlined.MeanPageLoadMs / control.MeanPageLoadMs, 1.06, 1.18);
        Assert.InRange(streamlined.ErrorsPerUser / control.ErrorsPerUser, 1.08, 1.5);
    }

    [Theory]
    [InlineData("homepage_cta", "control")]
    [InlineData("onboarding_flow", "control")]
    public void Assignment_is_close_to_fifty_fifty(string experiment, string controlVariant)
    {
        var share = _database.Number(
            $"SELECT AVG(variant = '{controlVariant}') FROM (SELECT user_id, MIN(variant) AS variant FROM raw_exposures WHERE experiment_id = '{experiment}' GROUP BY user_id HAVING COUNT(DISTINCT variant) = 1)");

        Assert.InRange(share, 0.48, 0.52);
    }

    [Theory]
    [InlineData("homepage_cta", "2026-01-05", HomepageCtaEnd, 0.60)]
    [InlineData("onboarding_flow", "2026-01-12", OnboardingFlowEnd, 0.40)]
    public void The_planned_share_of_active_users_is_exposed(string experiment, string windowStart, string windowEnd, double expectedShare)
    {
        var active = _database.Count($"SELECT COUNT(DISTINCT user_id) FROM raw_events WHERE occurred_at BETWEEN '{windowStart}' AND '{windowEnd}'");
        var exposed = _database.Count($"SELECT COUNT(DISTINCT user_id) FROM raw_exposures WHERE experiment_id = '{experiment}'");

        Assert.InRange((double)exposed / active, expectedShare - 0.03, expectedShare + 0.03);
    }

    [Fact]
    public void Pre_period_behaviour_predicts_in_experiment_behaviour()
    {
        var rows = _database.Rows(
            """
            SELECT u.user_id,
                   SUM(e.occurred_at >= '2025-12-22' AND e.occurred_at < '2026-01-05'),
                   SUM(e.occurred_at >= '2026-01-05' AND e.occurred_at < '2026-01-19'),
                   SUM(e.event_type = 'purchase' AND e.occurred_at >= '2025-12-22' AND e.occurred_at < '2026-01-05'),
                   SUM(e.event_type = 'purchase' AND e.occurred_at >= '2026-01-05' AND e.occurred_at < '2026-01-19')
            FROM raw_users u JOIN raw_events e ON e.user_id = u.user_id
            WHERE u.signup_at < '2025-12-22'
            GROUP BY u.user_id
            """);
        double Value(object?[] row, int index) => Convert.ToDouble(row[index], System.Globalization.CultureInfo.InvariantCulture);

        var eventsCorrelation = Statistics.Correlation(rows.Select(row => Value(row, 1)).ToArray(), rows.Select(row => Value(row, 2)).ToArray());
        var purchasesCorrelation = Statistics.Correlation(rows.Select(row => Value(row, 3)).ToArray(), rows.Select(row => Value(row, 4)).ToArray());

        Assert.True(eventsCorrelation > 0.5, $"events correlation {eventsCorrelation:F2}");
        Assert.True(purchasesCorrelation > 0.3, $"purchases correlation {purchasesCorrelation:F2}");
    }

    private ArmOutcomes Outcomes(string experiment, string variant, string windowEnd)
    {
        var rows = _database.Rows(
            $"""
            WITH exposed AS (
                SELECT user_id, MIN(exposed_at) AS first_at
                FROM raw_exposures WHERE experiment_id = '{experiment}'
                GROUP BY user_id HAVING COUNT(DISTINCT variant) = 1 AND MIN(variant) = '{variant}')
            SELECT x.user_id,
                   COALESCE(SUM(e.event_type = 'purchase'), 0),
                   COALESCE(SUM(e.revenue), 0),
                   COALESCE(SUM(e.event_type = 'click'), 0),
                   COALESCE(SUM(e.event_type = 'error'), 0),
                   COALESCE(SUM(e.event_type = 'sign_up'), 0),
                   COALESCE(SUM(e.page_load_ms), 0),
                   COALESCE(SUM(e.event_type = 'page_view'), 0)
            FROM exposed x
            LEFT JOIN events_deduplicated e ON e.user_id = x.user_id AND e.occurred_at >= x.first_at AND e.occurred_at <= '{windowEnd}'
            GROUP BY x.user_id
            """);
        Assert.True(rows.Count > 1_000, $"{experiment}/{variant} has only {rows.Count} exposed users");

        double Sum(int index) => rows.Sum(row => Convert.ToDouble(row[index], System.Globalization.CultureInfo.InvariantCulture));
        double Share(int index) => rows.Count(row => Convert.ToDouble(row[index], System.Globalization.CultureInfo.InvariantCulture) > 0) / (double)rows.Count;
        return new ArmOutcomes(
            PurchaseConversion: Share(1),
            RevenuePerUser: Sum(2) / rows.Count,
            ClicksPerUser: Sum(3) / rows.Count,
            ErrorsPerUser: Sum(4) / rows.Count,
            SignUpConversion: Share(5),
            MeanPageLoadMs: Sum(6) / Sum(7));
    }

    private sealed record ArmOutcomes(
        double PurchaseConversion,
        double RevenuePerUser,
        double ClicksPerUser,
        double ErrorsPerUser,
        double SignUpConversion,
        double MeanPageLoadMs);
}
