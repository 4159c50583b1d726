using System.Globalization;
using System.Text.Json;

namespace MetricCompiler.Statistics.Tests;

/// <summary>Loads the oracle fixtures copied next to the test assembly and compares figures.</summary>
internal static class Fixtures
{
    public const double RelativeTolerance = 1e-6;
    public const double AbsoluteTolerance = 1e-12;

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static IEnumerable<string> Files() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json").OrderBy(f => f, StringComparer.Ordinal);

    public static JsonDocument Load(string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, file)));

    /// <summary>(file, case name) for every case of every fixture of the given kind.</summary>
    public static TheoryData<string, string> Cases(string kind)
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Files())
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.GetProperty("kind").GetString() != kind)
            {
                continue;
            }

            foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            {
                data.Add(Path.GetFileName(path), c.GetProperty("name").GetString()!);
            }
        }

        return data;
    }

    public static JsonElement Case(JsonDocument doc, string name) =>
        doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static bool Close(double actual, double expected, double relative = RelativeTolerance, double absolute = AbsoluteTolerance) =>
        Math.Abs(actual - expected) <= Math.Max(relative * Math.Abs(expected), absolute);

    /// <summary>Compares every property of <paramref name="expected"/> with <paramref name="actual"/>.</summary>
    public static void CompareObject(JsonElement actual, JsonElement expected, string path, List<string> problems)
    {
        foreach (var property in expected.EnumerateObject())
        {
            var where = $"{path}.{property.Name}";
            if (!actual.TryGetProperty(property.Name, out var value))
            {
                problems.Add($"{where}: missing in the engine output");
                continue;
            }

            CompareValue(value, property.Value, where, problems);
        }
    }

    public static void CompareValue(JsonElement actual, JsonElement expected, string where, List<string> problems)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                if (actual.ValueKind != JsonValueKind.Null)
                {
                    problems.Add($"{where}: expected null, got {actual.GetRawText()}");
                }

                break;
            case JsonValueKind.Number:
                if (actual.ValueKind != JsonValueKind.Number)
                {
                    problems.Add($"{where}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                }
                else if (!Close(actual.GetDouble(), expected.GetDouble()))
                {
                    var a = actual.GetDouble();
                    var e = expected.GetDouble();
                    var rel = e == 0 ? double.PositiveInfinity : Math.Abs(a - e) / Math.Abs(e);
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{where}: expected {e:R}, got {a:R} (relative error {rel:E2})"));
                }

                break;
            case JsonValueKind.Object:
                if (actual.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"{where}: expected an object, got {actual.GetRawText()}");
                }
                else
                {
                    CompareObject(actual, expected, where, problems);
                }

                break;
            case JsonValueKind.Array:
                if (actual.ValueKind != JsonValueKind.Array || actual.GetArrayLength() != expected.GetArrayLength())
                {
                    problems.Add($"{where}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                }
                else
                {
                    for (var i = 0; i < expected.GetArrayLength(); i++)
                    {
                        CompareValue(actual[i], expected[i], $"{where}[{i}]", problems);
                    }
                }

                break;
            default:
                if (actual.GetRawText() != expected.GetRawText())
                {
                    problems.Add($"{where}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                }

                break;
        }
    }

    public static void AssertNoProblems(List<string> problems, string context)
    {
        Assert.True(problems.Count == 0, $"{context}: {problems.Count} mismatch(es)\n" + string.Join("\n", problems.Take(40)));
    }
}
