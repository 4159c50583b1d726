using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MetricCompiler.Statistics;

/// <summary>
/// The `metricc stats` JSON contract (snake_case). <see cref="ParseRequest"/> validates strictly and
/// throws <see cref="StatsInputException"/> naming the JSON path; <see cref="WriteResult"/> writes
/// indented JSON with a fixed field order, nulls as null and doubles in shortest round-trip form.
/// </summary>
public static class StatsJson
{
    private const string Root = "(root)";

    private static readonly string[] RequestFields =
        ["control", "alpha", "correction", "method", "sequential_tuning", "prior", "srm", "metrics"];

    private static readonly string[] MetricFields = ["name", "kind", "cuped", "variants"];

    private static readonly string[] VariantFields =
    [
        "n", "sum", "sum_squares", "covariate_sum", "covariate_sum_squares", "cross_sum",
        "numerator_sum", "numerator_sum_squares", "denominator_sum", "denominator_sum_squares",
    ];

    private static readonly string[] CupedFields = ["covariate_sum", "covariate_sum_squares", "cross_sum"];

    private static readonly string[] RatioFields =
        ["numerator_sum", "numerator_sum_squares", "denominator_sum", "denominator_sum_squares", "cross_sum"];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Parses and validates an analysis request.</summary>
    public static AnalysisRequest ParseRequest(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = Parse(json);
        var f = Fields(document.RootElement, Root, RequestFields);

        var control = NonEmptyString(Require(f, "control", Root), Join(Root, "control"));
        var alpha = 0.05;
        if (Optional(f, "alpha") is { } alphaElement)
        {
            alpha = Number(alphaElement, "alpha");
            if (!(alpha > 0 && alpha < 1))
            {
                throw new StatsInputException("alpha", "expected a number in (0, 1)");
            }
        }

        var correction = Correction.None;
        if (Optional(f, "correction") is { } correctionElement)
        {
            correction = String(correctionElement, "correction") switch
            {
                "none" => Correction.None,
                "holm" => Correction.Holm,
                "bh" => Correction.BenjaminiHochberg,
                _ => throw new StatsInputException("correction", "expected one of none, holm, bh"),
            };
        }

        var method = InferenceMethod.Frequentist;
        if (Optional(f, "method") is { } methodElement)
        {
            method = String(methodElement, "method") switch
            {
                "frequentist" => InferenceMethod.Frequentist,
                "sequential" => InferenceMethod.Sequential,
                "bayesian" => InferenceMethod.Bayesian,
                _ => throw new StatsInputException("method", "expected one of frequentist, sequential, bayesian"),
            };
        }

        var tuning = SequentialTesting.DefaultTuning;
        if (Optional(f, "sequential_tuning") is { } tuningElement)
        {
            tuning = Number(tuningElement, "sequential_tuning");
            if (!(tuning > 0))
            {
                throw new StatsInputException("sequential_tuning", "expected a positive number");
            }
        }

        BayesianPrior? prior = null;
        if (Optional(f, "prior") is { } priorElement)
        {
            var p = Fields(priorElement, "prior", "mean", "variance");
            var mean = Number(Require(p, "mean", "prior"), "prior.mean");
            var variance = Number(Require(p, "variance", "prior"), "prior.variance");
            if (!(variance > 0))
            {
                throw new StatsInputException("prior.variance", "expected a positive number");
            }

            prior = new BayesianPrior(mean, variance);
        }

        var srm = Optional(f, "srm") is { } srmElement ? ParseSrm(srmElement) : null;

        var metricsElement = Require(f, "metrics", Root);
        if (metricsElement.ValueKind != JsonValueKind.Array)
        {
            throw new StatsInputException("metrics", "expected an array");
        }

        var metrics = new List<MetricInput>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var metricElement in metricsElement.EnumerateArray())
        {
            var path = $"metrics[{index}]";
            var metric = ParseMetric(metricElement, path, control);
            if (!names.Add(metric.Name))
            {
                throw new StatsInputException(path + ".name", $"duplicate metric name '{metric.Name}'");
            }

            metrics.Add(metric);
            index++;
        }

        return new AnalysisRequest(control, metrics, alpha, correction, method, srm, tuning, prior);
    }

    /// <summary>Writes a request in the same format <see cref="ParseRequest"/> reads.</summary>
    public static string WriteRequest(AnalysisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("control", request.Control);
            w.WriteNumber("alpha", request.Alpha);
            w.WriteString("correction", ExperimentAnalyzer.CorrectionName(request.Correction));
            w.WriteString("method", MethodName(request.Method));
            w.WriteNumber("sequential_tuning", request.SequentialTuning);
            if (request.Prior is { } prior)
            {
                w.WriteStartObject("prior");
                w.WriteNumber("mean", prior.Mean);
                w.WriteNumber("variance", prior.Variance);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("prior");
            }

            if (request.Srm is { } srm)
            {
                w.WriteStartObject("srm");
                w.WriteStartObject("counts");
                foreach (var (name, count) in srm.Counts)
                {
                    w.WriteNumber(name, count);
                }

                w.WriteEndObject();
                w.WriteStartObject("weights");
                foreach (var (name, weight) in srm.Weights)
                {
                    w.WriteNumber(name, weight);
                }

                w.WriteEndObject();
                w.WriteNumber("threshold", srm.Threshold);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("srm");
            }

            w.WriteStartArray("metrics");
            foreach (var metric in request.Metrics)
            {
                w.WriteStartObject();
                w.WriteString("name", metric.Name);
                w.WriteString("kind", KindName(metric.Kind));
                w.WriteBoolean("cuped", metric.Cuped);
                w.WriteStartObject("variants");
                foreach (var (name, s) in metric.Variants)
                {
                    w.WriteStartObject(name);
                    w.WriteNumber("n", s.N);
                    if (metric.Kind != MetricKind.Ratio)
                    {
                        w.WriteNumber("sum", s.Sum);
                        if (metric.Kind == MetricKind.Mean)
                        {
                            w.WriteNumber("sum_squares", s.SumSquares);
                        }
                    }

                    WriteOptional(w, "covariate_sum", s.CovariateSum);
                    WriteOptional(w, "covariate_sum_squares", s.CovariateSumSquares);
                    WriteOptional(w, "cross_sum", s.CrossSum);
                    WriteOptional(w, "numerator_sum", s.NumeratorSum);
                    WriteOptional(w, "numerator_sum_squares", s.NumeratorSumSquares);
                    WriteOptional(w, "denominator_sum", s.DenominatorSum);
                    WriteOptional(w, "denominator_sum_squares", s.DenominatorSumSquares);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Writes a result: {"srm": {...} | null, "comparisons": [...], "warnings": [...]}. Every comparison
    /// has every field (method-specific ones null when they do not apply), in a fixed order.
    /// </summary>
    public static string WriteResult(AnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Write(w =>
        {
            w.WriteStartObject();
            if (result.Srm is { } srm)
            {
                w.WriteStartObject("srm");
                WriteNumberOrNull(w, "chi_square", srm.ChiSquare);
                WriteNumberOrNull(w, "p_value", srm.PValue);
                w.WriteBoolean("mismatch", srm.Mismatch);
                w.WriteNumber("degrees_of_freedom", srm.DegreesOfFreedom);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("srm");
            }

            w.WriteStartArray("comparisons");
            foreach (var c in result.Comparisons)
            {
                w.WriteStartObject();
                w.WriteString("metric", c.Metric);
                w.WriteString("variant", c.Variant);
                WriteNumberOrNull(w, "control_mean", c.ControlMean);
                WriteNumberOrNull(w, "variant_mean", c.VariantMean);
                WriteNumberOrNull(w, "absolute_lift", c.AbsoluteLift);
                WriteNumberOrNull(w, "relative_lift", c.RelativeLift);
                WriteNumberOrNull(w, "std_error", c.StdError);
                WriteNumberOrNull(w, "relative_std_error", c.RelativeStdError);
                WriteNumberOrNull(w, "degrees_of_freedom", c.DegreesOfFreedom);
                WriteNumberOrNull(w, "p_value", c.PValue);
                WriteNumberOrNull(w, "adjusted_p_value", c.AdjustedPValue);
                WriteNumberOrNull(w, "ci_low", c.CiLow);
                WriteNumberOrNull(w, "ci_high", c.CiHigh);
                WriteNumberOrNull(w, "relative_ci_low", c.RelativeCiLow);
                WriteNumberOrNull(w, "relative_ci_high", c.RelativeCiHigh);
                w.WriteBoolean("significant", c.Significant);
                w.WriteNumber("control_n", c.ControlN);
                w.WriteNumber("variant_n", c.VariantN);
                WriteNumberOrNull(w, "cuped_theta", c.CupedTheta);
                WriteNumberOrNull(w, "chance_to_win", c.ChanceToWin);
                WriteNumberOrNull(w, "risk_control", c.RiskControl);
                WriteNumberOrNull(w, "risk_variant", c.RiskVariant);
                WriteNumberOrNull(w, "posterior_mean", c.PosteriorMean);
                WriteNumberOrNull(w, "posterior_std_dev", c.PosteriorStdDev);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("warnings");
            foreach (var warning in result.Warnings)
            {
                w.WriteStringValue(warning);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Reads back what <see cref="WriteResult"/> wrote.</summary>
    public static AnalysisResult ParseResult(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = Parse(json);
        var f = Fields(document.RootElement, Root, "srm", "comparisons", "warnings");

        SrmResult? srm = null;
        if (Optional(f, "srm") is { } srmElement)
        {
            var s = Fields(srmElement, "srm", "chi_square", "p_value", "mismatch", "degrees_of_freedom");
            srm = new SrmResult(
                Number(Require(s, "chi_square", "srm"), "srm.chi_square"),
                Number(Require(s, "p_value", "srm"), "srm.p_value"),
                Bool(Require(s, "mismatch", "srm"), "srm.mismatch"),
                (int)Count(Require(s, "degrees_of_freedom", "srm"), "srm.degrees_of_freedom"));
        }

        var comparisons = new List<Comparison>();
        var array = Require(f, "comparisons", Root);
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new StatsInputException("comparisons", "expected an array");
        }

        var i = 0;
        foreach (var element in array.EnumerateArray())
        {
            var path = $"comparisons[{i++}]";
            var c = Fields(element, path);
            double? N(string key) => Optional(c, key) is { } e ? Number(e, Join(path, key)) : null;
            comparisons.Add(new Comparison(
                String(Require(c, "metric", path), Join(path, "metric")),
                String(Require(c, "variant", path), Join(path, "variant")),
                N("control_mean"), N("variant_mean"), N("absolute_lift"), N("relative_lift"), N("std_error"),
                N("p_value"), N("adjusted_p_value"), N("ci_low"), N("ci_high"), N("relative_ci_low"), N("relative_ci_high"),
                Bool(Require(c, "significant", path), Join(path, "significant")),
                Count(Require(c, "control_n", path), Join(path, "control_n")),
                Count(Require(c, "variant_n", path), Join(path, "variant_n")),
                N("relative_std_error"), N("degrees_of_freedom"), N("cuped_theta"), N("chance_to_win"),
                N("risk_control"), N("risk_variant"), N("posterior_mean"), N("posterior_std_dev")));
        }

        var warnings = new List<string>();
        if (Optional(f, "warnings") is { } warningsElement)
        {
            if (warningsElement.ValueKind != JsonValueKind.Array)
            {
                throw new StatsInputException("warnings", "expected an array");
            }

            var k = 0;
            foreach (var w in warningsElement.EnumerateArray())
            {
                warnings.Add(String(w, $"warnings[{k++}]"));
            }
        }

        return new AnalysisResult(srm, comparisons, warnings);
    }

    private static MetricInput ParseMetric(JsonElement element, string path, string control)
    {
        var f = Fields(element, path, MetricFields);
        var name = NonEmptyString(Require(f, "name", path), Join(path, "name"));
        var kindPath = Join(path, "kind");
        var kind = String(Require(f, "kind", path), kindPath) switch
        {
            "mean" => MetricKind.Mean,
            "proportion" => MetricKind.Proportion,
            "ratio" => MetricKind.Ratio,
            _ => throw new StatsInputException(kindPath, "expected one of mean, proportion, ratio"),
        };

        var cuped = Optional(f, "cuped") is { } cupedElement && Bool(cupedElement, Join(path, "cuped"));
        if (cuped && kind == MetricKind.Ratio)
        {
            throw new StatsInputException(Join(path, "cuped"), "CUPED is not supported for ratio metrics");
        }

        var variantsPath = Join(path, "variants");
        var variantsElement = Require(f, "variants", path);
        if (variantsElement.ValueKind != JsonValueKind.Object)
        {
            throw new StatsInputException(variantsPath, "expected an object");
        }

        var variants = new Dictionary<string, VariantStatistics>(StringComparer.Ordinal);
        foreach (var property in variantsElement.EnumerateObject())
        {
            var variantPath = Join(variantsPath, property.Name);
            if (property.Name.Length == 0)
            {
                throw new StatsInputException(variantPath, "a variant name must not be empty");
            }

            if (variants.ContainsKey(property.Name))
            {
                throw new StatsInputException(variantPath, "duplicate variant");
            }

            variants.Add(property.Name, ParseVariant(property.Value, variantPath, kind, cuped));
        }

        if (!variants.ContainsKey(control))
        {
            throw new StatsInputException(variantsPath, $"control variant '{control}' is missing");
        }

        if (variants.Count < 2)
        {
            throw new StatsInputException(variantsPath, $"needs at least one variant besides the control '{control}'");
        }

        return new MetricInput(name, kind, variants, cuped);
    }

    private static VariantStatistics ParseVariant(JsonElement element, string path, MetricKind kind, bool cuped)
    {
        var f = Fields(element, path, VariantFields);
        var n = Count(Require(f, "n", path), Join(path, "n"));

        var required = new List<string>();
        switch (kind)
        {
            case MetricKind.Mean:
                required.Add("sum");
                required.Add("sum_squares");
                break;
            case MetricKind.Proportion:
                required.Add("sum");
                break;
            default:
                required.AddRange(RatioFields);
                break;
        }

        if (cuped)
        {
            required.AddRange(CupedFields);
        }

        foreach (var key in required)
        {
            if (Optional(f, key) is null)
            {
                var why = CupedFields.Contains(key) && kind != MetricKind.Ratio ? "required when cuped is true" : $"required for kind '{KindName(kind)}'";
                throw new StatsInputException(Join(path, key), why);
            }
        }

        double? Get(string key) => Optional(f, key) is { } e ? Number(e, Join(path, key)) : null;
        var sum = Get("sum") ?? 0;
        if (kind == MetricKind.Proportion && (sum < 0 || sum > n))
        {
            throw new StatsInputException(Join(path, "sum"), "a proportion's sum must be between 0 and n");
        }

        return new VariantStatistics(
            n, sum, Get("sum_squares") ?? 0, Get("covariate_sum"), Get("covariate_sum_squares"), Get("cross_sum"),
            Get("numerator_sum"), Get("numerator_sum_squares"), Get("denominator_sum"), Get("denominator_sum_squares"));
    }

    private static SrmInput ParseSrm(JsonElement element)
    {
        var f = Fields(element, "srm", "counts", "weights", "threshold");
        var countsElement = Require(f, "counts", "srm");
        var weightsElement = Require(f, "weights", "srm");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in Fields(countsElement, "srm.counts"))
        {
            counts.Add(name, Count(value, Join("srm.counts", name)));
        }

        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in Fields(weightsElement, "srm.weights"))
        {
            var path = Join("srm.weights", name);
            var weight = Number(value, path);
            if (!(weight > 0))
            {
                throw new StatsInputException(path, "expected a positive number");
            }

            if (!counts.ContainsKey(name))
            {
                throw new StatsInputException(path, "no count is given for this variant in srm.counts");
            }

            weights.Add(name, weight);
        }

        foreach (var name in counts.Keys)
        {
            if (!weights.ContainsKey(name))
            {
                throw new StatsInputException(Join("srm.weights", name), "required: every variant in srm.counts needs a weight");
            }
        }

        if (counts.Count < 2)
        {
            throw new StatsInputException("srm.counts", "expected at least 2 variants");
        }

        var threshold = 0.001;
        if (Optional(f, "threshold") is { } thresholdElement)
        {
            threshold = Number(thresholdElement, "srm.threshold");
            if (!(threshold > 0 && threshold < 1))
            {
                throw new StatsInputException("srm.threshold", "expected a number in (0, 1)");
            }
        }

        return new SrmInput(counts, weights, threshold);
    }

    private static JsonDocument Parse(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } l ? l + 1 : 0;
            var position = ex.BytePositionInLine ?? 0;
            throw new StatsInputException($"{Root}: invalid JSON at line {line}, byte {position}", ex);
        }
    }

    private static string Join(string parent, string key) => parent == Root ? key : parent + "." + key;

    /// <summary>The fields of an object, in document order; rejects duplicates and (when given) unknown fields.</summary>
    private static Dictionary<string, JsonElement> Fields(JsonElement element, string path, params string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new StatsInputException(path, "expected an object");
        }

        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var fieldPath = Join(path, property.Name);
            if (allowed.Length > 0 && Array.IndexOf(allowed, property.Name) < 0)
            {
                throw new StatsInputException(fieldPath, $"unknown field (expected one of: {string.Join(", ", allowed)})");
            }

            if (!fields.TryAdd(property.Name, property.Value))
            {
                throw new StatsInputException(fieldPath, "duplicate field");
            }
        }

        return fields;
    }

    private static JsonElement Require(Dictionary<string, JsonElement> fields, string key, string parent)
    {
        if (!fields.TryGetValue(key, out var value))
        {
            throw new StatsInputException(Join(parent, key), "required field is missing");
        }

        return value;
    }

    /// <summary>The value of an optional field; null when absent or JSON null.</summary>
    private static JsonElement? Optional(Dictionary<string, JsonElement> fields, string key) =>
        fields.TryGetValue(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static double Number(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            throw new StatsInputException(path, "expected a number");
        }

        if (!element.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            throw new StatsInputException(path, "expected a finite number");
        }

        return value;
    }

    private static long Count(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            throw new StatsInputException(path, "expected a number");
        }

        if (element.TryGetInt64(out var n))
        {
            return n >= 0 ? n : throw new StatsInputException(path, "expected a non-negative integer");
        }

        if (element.TryGetDouble(out var d) && d >= 0 && d <= 9007199254740992.0 && d == Math.Floor(d))
        {
            return (long)d;
        }

        throw new StatsInputException(path, "expected a non-negative integer");
    }

    private static string String(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new StatsInputException(path, "expected a string");

    private static string NonEmptyString(JsonElement element, string path)
    {
        var value = String(element, path);
        return value.Length > 0 ? value : throw new StatsInputException(path, "expected a non-empty string");
    }

    private static bool Bool(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new StatsInputException(path, "expected a boolean"),
    };

    private static string KindName(MetricKind kind) => kind switch
    {
        MetricKind.Proportion => "proportion",
        MetricKind.Ratio => "ratio",
        _ => "mean",
    };

    private static string MethodName(InferenceMethod method) => method switch
    {
        InferenceMethod.Sequential => "sequential",
        InferenceMethod.Bayesian => "bayesian",
        _ => "frequentist",
    };

    private static void WriteOptional(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            body(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
