using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Simulation;

/// <summary>When people use the product: weekly rhythm, holiday dips and a diurnal (UTC) profile.</summary>
internal static class ActivityCalendar
{
    private static readonly double[] HourWeights =
    [
        2.0, 1.6, 1.2, 0.9, 0.8, 0.9, 1.3, 2.0, 2.9, 3.5, 3.8, 4.0,
        4.2, 4.1, 3.9, 3.9, 4.1, 4.4, 4.7, 4.9, 4.7, 4.1, 3.3, 2.6,
    ];

    private static readonly WeightedChoice<int> HourOfDay =
        new(HourWeights.Select((weight, hour) => (hour, weight)).ToArray());

    /// <summary>Relative session rate of a calendar day (1.0 = ordinary weekday).</summary>
    public static double DayFactor(DateOnly day)
    {
        var factor = day.DayOfWeek switch
        {
            DayOfWeek.Saturday => 0.85,
            DayOfWeek.Sunday => 0.90,
            _ => 1.0,
        };

        var isHoliday = (day.Month == 12 && day.Day is 24 or 25 or 26 or 31) || (day.Month == 1 && day.Day == 1);
        return isHoliday ? factor * 0.70 : factor;
    }

    /// <summary>A second of the day drawn from the diurnal profile.</summary>
    public static int SampleSecondOfDay(Xoshiro256StarStar random) =>
        (HourOfDay.Sample(random) * 3600) + random.NextInt(3600);
}
