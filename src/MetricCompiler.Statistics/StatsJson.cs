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
        ["control", "alpha", "correction", "method", "sequential_tuning", "prior", "srm", "scale", "metrics"];

    private static readonly string[] MetricFields = ["name", "kind", "cuped", "covariate_names", "variants"];

    private static readonly string[] VariantFields =
    [
        "n", "sum", "sum_squares", "covariate_sum", "covariate_sum_squares", "cross_sum",
        "numerator_sum", "numerator_sum_squares", "denominator_sum", "denominator_sum_squares",
        "quantile_level", "quantile", "quantile_lower", "quantile_upper", "quantile_n_star", "covariates",
        "shift", "denominator_shift", "covariate_shift",
    ];

    private static readonly string[] QuantileFields = ["quantile_level", "quantile", "quantile_lower", "quantile_upper"];

    private static readonly string[] CovariateFields = ["sums", "cross_products", "y_cross"];

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

        var scale = Scale.Relative;
        if (Optional(f, "scale") is { } scaleElement)
        {
            scale = String(scaleElement, "scale") switch
            {
                "relative" => Scale.Relative,
                "absolute" => Scale.Absolute,
                _ => throw new StatsInputException("scale", "expected one of relative, absolute"),
            };
        }

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

        return new AnalysisRequest(control, metrics, alpha, correction, method, srm, tuning, prior, scale);
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
            w.WriteString("scale", ExperimentAnalyzer.ScaleName(request.Scale));
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
                if (metric.CovariateNames is { } covariateNames)
                {
                    w.WriteStartArray("covariate_names");
                    foreach (var covariateName in covariateNames)
                    {
                        w.WriteStringValue(covariateName);
                    }

                    w.WriteEndArray();
                }

                w.WriteStartObject("variants");
                foreach (var (name, s) in metric.Variants)
                {
                    w.WriteStartObject(name);
                    w.WriteNumber("n", s.N);
                    if (metric.Kind is MetricKind.Mean or MetricKind.Proportion)
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
                    WriteOptional(w, "quantile_level", s.QuantileLevel);
                    WriteOptional(w, "quantile", s.Quantile);
                    WriteOptional(w, "quantile_lower", s.QuantileLower);
                    WriteOptional(w, "quantile_upper", s.QuantileUpper);
                    if (s.Shift != 0)
                    {
                        w.WriteNumber("shift", s.Shift);
                    }

                    if (s.DenominatorShift != 0)
                    {
                        w.WriteNumber("denominator_shift", s.DenominatorShift);
                    }

                    if (s.CovariateShift != 0)
                    {
                        w.WriteNumber("covariate_shift", s.CovariateShift);
                    }

                    if (s.QuantileNStar is { } nStar)
                    {
                        w.WriteNumber("quantile_n_star", nStar);
                    }

                    if (s.Covariates is { } covariates)
                    {
                        w.WriteStartObject("covariates");
                        WriteArray(w, "sums", covariates.Sums);
                        w.WriteStartArray("cross_products");
                        foreach (var row in covariates.CrossProducts)
                        {
                            WriteArray(w, null, row);
                        }

                        w.WriteEndArray();
                        WriteArray(w, "y_cross", covariates.YCross);
                        w.WriteEndObject();
                    }

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
                w.WriteString("scale", ExperimentAnalyzer.ScaleName(c.Scale));
                WriteScaleTest(w, "absolute", c.Absolute);
                WriteScaleTest(w, "relative", c.Relative);
                WriteNumberOrNull(w, "variance_reduction", c.VarianceReduction);
                WriteRegression(w, c.Regression);
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
                N("risk_control"), N("risk_variant"), N("posterior_mean"), N("posterior_std_dev"),
                Optional(c, "scale") is { } scaleElement && String(scaleElement, Join(path, "scale")) == "absolute" ? Scale.Absolute : Scale.Relative,
                ParseScaleTest(c, "absolute", path), ParseScaleTest(c, "relative", path), N("variance_reduction"),
                ParseRegression(c, path)));
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
            "quantile" => MetricKind.Quantile,
            _ => throw new StatsInputException(kindPath, "expected one of mean, proportion, ratio, quantile"),
        };

        var cuped = Optional(f, "cuped") is { } cupedElement && Bool(cupedElement, Join(path, "cuped"));
        if (cuped && kind is MetricKind.Ratio or MetricKind.Quantile)
        {
            throw new StatsInputException(Join(path, "cuped"), $"CUPED is not supported for {KindName(kind)} metrics");
        }

        List<string>? covariateNames = null;
        if (Optional(f, "covariate_names") is { } namesElement)
        {
            var namesPath = Join(path, "covariate_names");
            if (namesElement.ValueKind != JsonValueKind.Array)
            {
                throw new StatsInputException(namesPath, "expected an array of names");
            }

            covariateNames = [];
            var j = 0;
            foreach (var item in namesElement.EnumerateArray())
            {
                var itemName = NonEmptyString(item, $"{namesPath}[{j}]");
                if (covariateNames.Contains(itemName))
                {
                    throw new StatsInputException($"{namesPath}[{j}]", $"duplicate covariate name '{itemName}'");
                }

                covariateNames.Add(itemName);
                j++;
            }
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

        CheckAcrossVariants(variants, variantsPath, kind, covariateNames, path);

        if (!variants.ContainsKey(control))
        {
            throw new StatsInputException(variantsPath, $"control variant '{control}' is missing");
        }

        if (variants.Count < 2)
        {
            throw new StatsInputException(variantsPath, $"needs at least one variant besides the control '{control}'");
        }

        return new MetricInput(name, kind, variants, cuped, covariateNames);
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
            case MetricKind.Quantile:
                required.AddRange(QuantileFields);
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

        long? nStar = null;
        if (kind == MetricKind.Quantile)
        {
            var level = Get("quantile_level")!.Value;
            if (!(level > 0 && level < 1))
            {
                throw new StatsInputException(Join(path, "quantile_level"), "expected a number in (0, 1)");
            }

            if (!(Get("quantile_lower") <= Get("quantile") && Get("quantile") <= Get("quantile_upper")))
            {
                throw new StatsInputException(Join(path, "quantile"), "expected quantile_lower <= quantile <= quantile_upper");
            }

            if (Optional(f, "quantile_n_star") is { } nStarElement)
            {
                nStar = Count(nStarElement, Join(path, "quantile_n_star"));
                if (nStar == 0)
                {
                    throw new StatsInputException(Join(path, "quantile_n_star"), "expected a positive integer");
                }
            }
        }

        CovariateStatistics? covariates = null;
        if (Optional(f, "covariates") is { } covariatesElement)
        {
            var covariatesPath = Join(path, "covariates");
            if (kind is not (MetricKind.Mean or MetricKind.Proportion))
            {
                throw new StatsInputException(covariatesPath, $"regression adjustment is not supported for {KindName(kind)} metrics");
            }

            if (cuped)
            {
                throw new StatsInputException(covariatesPath, "use either cuped (one covariate: covariate_sum, covariate_sum_squares, cross_sum) or covariates, not both");
            }

            covariates = ParseCovariates(covariatesElement, covariatesPath);
        }

        return new VariantStatistics(
            n, sum, Get("sum_squares") ?? 0, Get("covariate_sum"), Get("covariate_sum_squares"), Get("cross_sum"),
            Get("numerator_sum"), Get("numerator_sum_squares"), Get("denominator_sum"), Get("denominator_sum_squares"),
            Get("quantile_level"), Get("quantile"), Get("quantile_lower"), Get("quantile_upper"), nStar, covariates,
            Get("shift") ?? 0, Get("denominator_shift") ?? 0, Get("covariate_shift") ?? 0);
    }

    /// <summary>
    /// {"sums": [k], "cross_products": [[k] x k], "y_cross": [k]}: finite numbers, k &gt;= 1, a symmetric matrix
    /// (within 1e-9 relative).
    /// </summary>
    private static CovariateStatistics ParseCovariates(JsonElement element, string path)
    {
        var f = Fields(element, path, CovariateFields);
        var sums = NumberArray(Require(f, "sums", path), Join(path, "sums"));
        var k = sums.Count;
        if (k == 0)
        {
            throw new StatsInputException(Join(path, "sums"), "expected at least one covariate");
        }

        var yCross = NumberArray(Require(f, "y_cross", path), Join(path, "y_cross"));
        if (yCross.Count != k)
        {
            throw new StatsInputException(Join(path, "y_cross"), $"expected {k} values (one per covariate)");
        }

        var matrixPath = Join(path, "cross_products");
        var matrixElement = Require(f, "cross_products", path);
        if (matrixElement.ValueKind != JsonValueKind.Array || matrixElement.GetArrayLength() != k)
        {
            throw new StatsInputException(matrixPath, $"expected a {k} x {k} array of arrays");
        }

        var rows = new List<IReadOnlyList<double>>();
        var i = 0;
        foreach (var rowElement in matrixElement.EnumerateArray())
        {
            var row = NumberArray(rowElement, $"{matrixPath}[{i}]");
            if (row.Count != k)
            {
                throw new StatsInputException($"{matrixPath}[{i}]", $"expected {k} values");
            }

            rows.Add(row);
            i++;
        }

        for (var r = 0; r < k; r++)
        {
            for (var c = r + 1; c < k; c++)
            {
                if (Math.Abs(rows[r][c] - rows[c][r]) > 1e-9 * Math.Max(Math.Abs(rows[r][c]), Math.Abs(rows[c][r])))
                {
                    throw new StatsInputException($"{matrixPath}[{r}][{c}]", $"the matrix must be symmetric ([{r}][{c}] differs from [{c}][{r}])");
                }
            }
        }

        return new CovariateStatistics(sums, rows, yCross);
    }

    /// <summary>Rules spanning a metric's variants: one quantile level; covariates in every variant or none, one k.</summary>
    private static void CheckAcrossVariants(
        Dictionary<string, VariantStatistics> variants, string variantsPath, MetricKind kind, List<string>? covariateNames, string metricPath)
    {
        if (kind == MetricKind.Quantile && variants.Count > 0)
        {
            var first = variants.First();
            foreach (var (name, s) in variants)
            {
                if (s.QuantileLevel != first.Value.QuantileLevel)
                {
                    throw new StatsInputException(Join(Join(variantsPath, name), "quantile_level"), $"every variant needs the same quantile_level (as '{first.Key}')");
                }
            }
        }

        var withCovariates = variants.Where(v => v.Value.Covariates is not null).ToList();
        if (withCovariates.Count > 0)
        {
            var missing = variants.FirstOrDefault(v => v.Value.Covariates is null);
            if (missing.Key is not null)
            {
                throw new StatsInputException(Join(Join(variantsPath, missing.Key), "covariates"), "required: another variant has covariates");
            }

            var k = withCovariates[0].Value.Covariates!.Count;
            foreach (var (name, s) in withCovariates)
            {
                if (s.Covariates!.Count != k)
                {
                    throw new StatsInputException(Join(Join(variantsPath, name), "covariates.sums"), $"expected {k} covariates (as '{withCovariates[0].Key}')");
                }
            }

            if (covariateNames is not null && covariateNames.Count != k)
            {
                throw new StatsInputException(Join(metricPath, "covariate_names"), $"expected {k} names (one per covariate)");
            }
        }
        else if (covariateNames is not null)
        {
            throw new StatsInputException(Join(metricPath, "covariate_names"), "given, but no variant has covariates");
        }
    }

    private static List<double> NumberArray(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new StatsInputException(path, "expected an array of numbers");
        }

        var values = new List<double>();
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            values.Add(Number(item, $"{path}[{i++}]"));
        }

        return values;
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
        MetricKind.Quantile => "quantile",
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

    private static void WriteArray(Utf8JsonWriter writer, string? name, IEnumerable<double> values)
    {
        if (name is null)
        {
            writer.WriteStartArray();
        }
        else
        {
            writer.WriteStartArray(name);
        }

        foreach (var value in values)
        {
            writer.WriteNumberValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteScaleTest(Utf8JsonWriter writer, string name, ScaleTest? test)
    {
        if (test is null)
        {
            writer.WriteNull(name);
            return;
        }

        writer.WriteStartObject(name);
        WriteNumberOrNull(writer, "estimate", test.Estimate);
        WriteNumberOrNull(writer, "std_error", test.StdError);
        WriteNumberOrNull(writer, "p_value", test.PValue);
        WriteNumberOrNull(writer, "ci_low", test.CiLow);
        WriteNumberOrNull(writer, "ci_high", test.CiHigh);
        writer.WriteEndObject();
    }

    private static void WriteRegression(Utf8JsonWriter writer, RegressionSummary? regression)
    {
        if (regression is null)
        {
            writer.WriteNull("regression");
            return;
        }

        writer.WriteStartObject("regression");
        writer.WriteStartArray("covariates");
        foreach (var name in regression.Covariates)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("theta");
        foreach (var theta in regression.Theta)
        {
            if (double.IsFinite(theta))
            {
                writer.WriteNumberValue(theta);
            }
            else
            {
                writer.WriteNullValue();
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("rank", regression.Rank);
        WriteNumberOrNull(writer, "control_adjusted_mean", regression.ControlAdjustedMean);
        WriteNumberOrNull(writer, "variant_adjusted_mean", regression.VariantAdjustedMean);
        WriteNumberOrNull(writer, "control_adjusted_mean_variance", regression.ControlAdjustedMeanVariance);
        WriteNumberOrNull(writer, "variant_adjusted_mean_variance", regression.VariantAdjustedMeanVariance);
        writer.WriteEndObject();
    }

    private static ScaleTest? ParseScaleTest(Dictionary<string, JsonElement> c, string key, string path)
    {
        if (Optional(c, key) is not { } element)
        {
            return null;
        }

        var where = Join(path, key);
        var f = Fields(element, where, "estimate", "std_error", "p_value", "ci_low", "ci_high");
        double? N(string name) => Optional(f, name) is { } e ? Number(e, Join(where, name)) : null;
        return new ScaleTest(N("estimate"), N("std_error"), N("p_value"), N("ci_low"), N("ci_high"));
    }

    private static RegressionSummary? ParseRegression(Dictionary<string, JsonElement> c, string path)
    {
        if (Optional(c, "regression") is not { } element)
        {
            return null;
        }

        var where = Join(path, "regression");
        var f = Fields(element, where);
        double? N(string name) => Optional(f, name) is { } e ? Number(e, Join(where, name)) : null;
        var names = Require(f, "covariates", where).EnumerateArray().Select((e, i) => String(e, $"{where}.covariates[{i}]"));
        var theta = Require(f, "theta", where).EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.Null ? double.NaN : Number(e, $"{where}.theta[{i}]"));
        return new RegressionSummary(
            new ValueList<string>(names), new ValueList<double>(theta), (int)Count(Require(f, "rank", where), Join(where, "rank")),
            N("control_adjusted_mean"), N("variant_adjusted_mean"), N("control_adjusted_mean_variance"), N("variant_adjusted_mean_variance"));
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
