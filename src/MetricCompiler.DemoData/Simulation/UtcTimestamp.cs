namespace MetricCompiler.DemoData.Simulation;

/// <summary>
/// Times are whole UTC seconds counted from 0001-01-01 (<see cref="DateOnly.DayNumber"/> * 86400 + second of day),
/// rendered as <c>yyyy-MM-dd HH:mm:ss</c> by integer arithmetic only.
/// </summary>
internal static class UtcTimestamp
{
    public const string TextFormat = "yyyy-MM-dd HH:mm:ss";
    public const long SecondsPerDay = 86_400;

    public static long StartOfDay(DateOnly day) => day.DayNumber * SecondsPerDay;

    public static long EndOfDay(DateOnly day) => StartOfDay(day) + SecondsPerDay - 1;

    public static DateOnly DayOf(long seconds) => DateOnly.FromDayNumber((int)(seconds / SecondsPerDay));

    public static string ToText(long seconds)
    {
        var day = DayOf(seconds);
        var secondOfDay = (int)(seconds % SecondsPerDay);
        return string.Create(19, (day, secondOfDay), static (span, state) =>
        {
            var (date, second) = state;
            WriteDigits(span[..4], date.Year);
            span[4] = '-';
            WriteDigits(span.Slice(5, 2), date.Month);
            span[7] = '-';
            WriteDigits(span.Slice(8, 2), date.Day);
            span[10] = ' ';
            WriteDigits(span.Slice(11, 2), second / 3600);
            span[13] = ':';
            WriteDigits(span.Slice(14, 2), second / 60 % 60);
            span[16] = ':';
            WriteDigits(span.Slice(17, 2), second % 60);
        });
    }

    private static void WriteDigits(Span<char> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}
