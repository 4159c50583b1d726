using System.Globalization;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Validation;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Core.Loading;

/// <summary>Turns YAML mappings into definitions. One instance per load; collects definitions from every file.</summary>
internal sealed class ProjectBuilder(string root, DiagnosticBag diagnostics, IReadOnlyDictionary<string, object?> vars, ProjectFiles files)
{
    public static readonly IReadOnlyList<string> DefaultModelPaths = ["models/**/*.sql"];
    public static readonly IReadOnlyList<string> DefaultTestPaths = ["tests/**/*.sql"];

    private static readonly Dictionary<string, ColumnType> ColumnTypes = new(StringComparer.Ordinal)
    {
        ["string"] = ColumnType.String,
        ["integer"] = ColumnType.Integer,
        ["number"] = ColumnType.Number,
        ["boolean"] = ColumnType.Boolean,
        ["timestamp"] = ColumnType.Timestamp,
    };

    private static readonly Dictionary<string, Direction> Directions = new(StringComparer.Ordinal)
    {
        ["increase"] = Direction.Increase,
        ["decrease"] = Direction.Decrease,
    };

    private static readonly Dictionary<string, MultipleTestingCorrection> Corrections = new(StringComparer.Ordinal)
    {
        ["none"] = MultipleTestingCorrection.None,
        ["holm"] = MultipleTestingCorrection.Holm,
        ["bh"] = MultipleTestingCorrection.BenjaminiHochberg,
    };

    private static readonly Dictionary<string, TestScale> Scales = new(StringComparer.Ordinal)
    {
        ["relative"] = TestScale.Relative,
        ["absolute"] = TestScale.Absolute,
    };

    private static readonly Dictionary<string, AnalysisMethod> Methods = new(StringComparer.Ordinal)
    {
        ["frequentist"] = AnalysisMethod.Frequentist,
        ["sequential"] = AnalysisMethod.Sequential,
        ["bayesian"] = AnalysisMethod.Bayesian,
    };

    /// <summary>Ten years: longer look-backs are mistakes, and huge ones overflow date arithmetic.</summary>
    public const int MaxLookbackDays = 3650;

    private readonly List<TargetDefinition> _targets = [];
    private readonly List<SourceDefinition> _sources = [];
    private readonly List<MetricDefinition> _metrics = [];
    private readonly List<ExperimentDefinition> _experiments = [];
    private readonly List<string> _files = [];
    private readonly List<SqlModelDefinition> _models = [];
    private readonly List<ModelProperties> _modelProperties = [];
    private readonly List<SqlTestDefinition> _sqlTests = [];
    private string _name = "metrics";
    private int _version = ProjectLoader.SupportedVersion;
    private string? _defaultTarget;
    private NameReference? _timeZone;
    private DemoDataSettings? _demoData;
    private NameReference? _piiSaltEnv;
    private NotifySettings? _notify;

    public void ReadProjectFile(string file, YamlMappingNode mapping)
    {
        _files.Add(file);
        var reader = new YamlMappingReader(mapping, file, diagnostics, file, YamlKeys.Project);
        var version = reader.Integer("version", required: true);
        if (version is { } v && v != ProjectLoader.SupportedVersion)
            diagnostics.Error(DiagnosticCodes.UnsupportedVersion, reader.At("version"),
                $"spec version {v} is not supported", $"this metricc reads `version: {ProjectLoader.SupportedVersion}`");
        _version = version ?? ProjectLoader.SupportedVersion;
        _name = reader.String("name") ?? Path.GetFileName(root);
        _defaultTarget = reader.String("default_target");
        _timeZone = reader.Reference("time_zone");
        _piiSaltEnv = reader.Reference("pii_salt_env");
        ReadTargets(reader.Mapping("targets"), file);
        ReadDemoData(reader, file);
        ReadNotify(reader, file);
        ReadDefinitions(reader, file);

        foreach (var include in ReadIncludes(reader, file))
        {
            var mappingNode = files.ReadDocument(include);
            if (mappingNode is null)
                continue;
            _files.Add(include);
            var included = new YamlMappingReader(mappingNode, include, diagnostics, include, YamlKeys.IncludedFile);
            ReadDefinitions(included, include);
            included.Finish();
        }

        ReadSqlFiles(reader, "sql_models", DefaultModelPaths, isTest: false);
        ReadSqlFiles(reader, "sql_tests", DefaultTestPaths, isTest: true);
        reader.Finish();
    }

    public ProjectDefinition Build(string projectFile) =>
        new(_name, _version, root, projectFile, _defaultTarget, _targets, _sources, _metrics, _experiments, _demoData, _files, _timeZone, _piiSaltEnv)
        {
            Models = _models.OrderBy(m => m.Name, StringComparer.Ordinal).ToList(),
            ModelProperties = _modelProperties,
            SqlTests = _sqlTests.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(),
            Notify = _notify,
        };

    /// <summary>
    /// SQL models (<c>sql_models:</c>) or SQL tests (<c>sql_tests:</c>): glob patterns like <c>include:</c>; each file is
    /// rendered once, its name is the file name without <c>.sql</c>.
    /// </summary>
    private void ReadSqlFiles(YamlMappingReader reader, string key, IReadOnlyList<string> defaults, bool isTest)
    {
        var declared = reader.Names(key);
        var patterns = declared.Count > 0 ? declared : defaults.Select(d => new NameReference(d, reader.Location())).ToList();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            if (FileGlob.LeavesRoot(pattern.Name))
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, pattern.Location, $"`{key}` pattern `{pattern.Name}` reaches outside the project folder",
                    "patterns are relative to the folder of metrics.yml and cannot start with `/` or contain `..`");
                continue;
            }

            var matches = FileGlob.Expand(root, pattern.Name).Where(f => f.EndsWith(".sql", StringComparison.Ordinal)).ToList();
            if (matches.Count == 0 && declared.Count > 0)
                diagnostics.Warning(DiagnosticCodes.IncludeMatchedNothing, pattern.Location, $"`{key}` pattern `{pattern.Name}` matched no .sql file",
                    "patterns are relative to the folder of metrics.yml; `**` matches any depth");
            foreach (var file in matches)
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (seen.TryGetValue(name, out var other))
                {
                    if (other != file)
                        diagnostics.Error(DiagnosticCodes.DuplicateName, new SourceLocation(file, 1, 1), $"`{file}` and `{other}` both define `{name}`",
                            "a SQL model or test is named by its file name; rename one of them");
                    continue;
                }

                seen[name] = file;
                if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z][a-z0-9_]{0,49}$") || name.Contains("__", StringComparison.Ordinal))
                {
                    diagnostics.Error(DiagnosticCodes.InvalidName, new SourceLocation(file, 1, 1), $"`{name}` is not a valid {(isTest ? "test" : "model")} name",
                        "file names of models and tests are lower-case letters, digits and single `_` (at most 50), starting with a letter");
                    continue;
                }

                var text = files.ReadText(file);
                if (text is null)
                    continue;
                _files.Add(file);
                var rendered = Models.SqlTemplate.Render(file, text, vars, diagnostics, isTest);
                if (rendered is null)
                    continue;
                if (isTest)
                    _sqlTests.Add(new SqlTestDefinition(name, file, rendered, rendered.Severity, new SourceLocation(file, 1, 1)));
                else
                    _models.Add(new SqlModelDefinition(name, file, rendered, CheckSum(text), new SourceLocation(file, 1, 1)));
            }
        }
    }

    private static string CheckSum(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static readonly Dictionary<string, TestSeverity> Severities = new(StringComparer.Ordinal)
    {
        ["error"] = TestSeverity.Error,
        ["warn"] = TestSeverity.Warn,
    };

    private static readonly Dictionary<string, DataTestKind> TestKinds = new(StringComparer.Ordinal)
    {
        ["not_null"] = DataTestKind.NotNull,
        ["unique"] = DataTestKind.Unique,
        ["accepted_values"] = DataTestKind.AcceptedValues,
        ["relationships"] = DataTestKind.Relationships,
        ["row_count_parity"] = DataTestKind.RowCountParity,
    };

    /// <summary>
    /// <c>tests:</c>: each entry a test name (<c>unique</c>) or a mapping of one test name to its arguments
    /// (<c>accepted_values: {values: [a, b], severity: warn}</c>). On a column the column is implied; elsewhere each
    /// test names its <c>column</c>.
    /// </summary>
    private List<DataTestDefinition> ReadTests(YamlMappingReader owner, string context, NameReference? column)
    {
        var result = new List<DataTestDefinition>();
        foreach (var item in owner.Sequence("tests")?.Children ?? [])
        {
            var at = owner.Location(item);
            string? kindName;
            YamlMappingReader? arguments = null;
            switch (item)
            {
                case YamlScalarNode { Value: { } plain }:
                    kindName = plain;
                    break;
                case YamlMappingNode { Children.Count: 1 } mapping when mapping.Children[0].Key is YamlScalarNode { Value: { } named }:
                    kindName = named;
                    if (mapping.Children[0].Value is YamlMappingNode argumentNode)
                        arguments = owner.Nested(argumentNode, $"test `{named}`", YamlKeys.DataTest);
                    else if (mapping.Children[0].Value is not YamlScalarNode { Value: null or "" })
                    {
                        diagnostics.Error(DiagnosticCodes.WrongNodeType, owner.Location(mapping.Children[0].Value), $"{context}: the arguments of test `{named}` must be a mapping",
                            "for example `- accepted_values: {values: [a, b]}`");
                        continue;
                    }

                    break;
                default:
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, at, $"{context}: each test is a name (`unique`) or a mapping of one name to its arguments",
                        "for example `- not_null` or `- accepted_values: {values: [a, b]}`");
                    continue;
            }

            if (!TestKinds.TryGetValue(kindName, out var kind))
            {
                diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `{kindName}` is not a data test",
                    NameSuggester.Suggest(kindName, TestKinds.Keys) is { } s ? $"did you mean `{s}`? tests: {string.Join(", ", TestKinds.Keys)}" : $"tests: {string.Join(", ", TestKinds.Keys)}; a custom check is a SQL test in tests/*.sql");
                continue;
            }

            var severity = arguments?.Choice("severity", Severities) ?? TestSeverity.Error;
            if (kind == DataTestKind.RowCountParity)
            {
                if (ReadParity(arguments, context, at, column is not null || !context.StartsWith("source ", StringComparison.Ordinal), severity) is { } parity)
                    result.Add(parity);
                continue;
            }

            var testColumn = column ?? arguments?.Reference("column");
            if (testColumn is null)
            {
                diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: test `{kindName}` needs the `column` it checks",
                    $"write `- {kindName}: {{column: name}}`, or declare the test under the column's `tests:`");
                arguments?.Finish();
                continue;
            }

            IReadOnlyList<string>? values = null;
            NameReference? to = null;
            string? field = null;
            if (kind == DataTestKind.AcceptedValues)
            {
                var valueNodes = arguments?.Sequence("values", required: true);
                values = valueNodes?.Children.OfType<YamlScalarNode>().Select(v => v.Value ?? "").ToList() ?? [];
                if (arguments is null)
                    diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `accepted_values` needs its `values`", "write `- accepted_values: {values: [a, b]}`");
            }
            else if (kind == DataTestKind.Relationships)
            {
                to = arguments?.Reference("to", required: true);
                field = arguments?.String("field");
                if (arguments is null)
                    diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `relationships` needs `to` (a source, model or node)", "write `- relationships: {to: users, field: user_id}`");
            }

            arguments?.Finish();
            if (kind == DataTestKind.AcceptedValues && values is null || kind == DataTestKind.Relationships && to is null)
                continue;
            result.Add(new DataTestDefinition(kind, testColumn, severity, at, values, to, field));
        }

        return result;
    }

    /// <summary>
    /// <c>row_count_parity: {max_dropped_share: 0.01, warn_dropped_share: 0.001}</c> on a source (not on a column): how
    /// much of the raw rows staging may drop.
    /// </summary>
    private DataTestDefinition? ReadParity(YamlMappingReader? arguments, string context, SourceLocation at, bool misplaced, TestSeverity severity)
    {
        var max = arguments?.Number("max_dropped_share");
        var warn = arguments?.Number("warn_dropped_share");
        arguments?.Finish();
        if (misplaced)
        {
            diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `row_count_parity` compares a source with its staging, so it goes under the source's own `tests:`",
                "write it under the source: `tests: [{row_count_parity: {max_dropped_share: 0.01}}]`");
            return null;
        }

        if (max is null && warn is null)
        {
            diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `row_count_parity` needs `max_dropped_share` or `warn_dropped_share`",
                "write `- row_count_parity: {max_dropped_share: 0.01}`: the share of raw rows staging may drop (0.01 = 1%)");
            return null;
        }

        if (max is < 0 or > 1 || warn is < 0 or > 1 || max is not null && warn > max)
        {
            diagnostics.Error(DiagnosticCodes.InvalidDataTest, at, $"{context}: `row_count_parity` shares are between 0 and 1, with `warn_dropped_share` at most `max_dropped_share`",
                "0.01 is 1% of the raw rows");
            return null;
        }

        return new DataTestDefinition(DataTestKind.RowCountParity, new NameReference("", at), severity, at) { MaxDroppedShare = max, WarnDroppedShare = warn };
    }

    /// <summary><c>models:</c> entries: YAML about SQL models (description, tags, column tests and model-level tests).</summary>
    private void ReadModelProperties(YamlMappingNode node, string file)
    {
        var name = NameOf(node, file, "model");
        var context = $"model `{name}`";
        var reader = new YamlMappingReader(node, file, diagnostics, context, YamlKeys.Model);
        var reference = reader.Reference("name", required: true);
        var tests = ReadTests(reader, context, null);
        foreach (var columnNode in reader.Sequence("columns")?.Children ?? [])
        {
            if (columnNode is not YamlMappingNode columnMapping)
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, columnNode), $"{context}: each column must be a mapping with a `name`");
                continue;
            }

            var column = new YamlMappingReader(columnMapping, file, diagnostics, $"{context} column", YamlKeys.ModelColumn);
            var columnName = column.Reference("name", required: true);
            column.String("description");
            if (columnName is not null)
                tests.AddRange(ReadTests(column, $"{context} column `{columnName.Name}`", columnName));
            column.Finish();
        }

        var properties = new ModelProperties(reference ?? new NameReference(name, reader.Location()), reader.String("description"),
            reader.Names("tags").Select(t => t.Name).ToList(), tests, reader.Location());
        reader.Finish();
        _modelProperties.Add(properties);
    }

    private IEnumerable<string> ReadIncludes(YamlMappingReader reader, string file)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { file };
        foreach (var pattern in reader.Names("include"))
        {
            if (FileGlob.LeavesRoot(pattern.Name))
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, pattern.Location, $"include pattern `{pattern.Name}` reaches outside the project folder",
                    "include patterns are relative to the folder of metrics.yml and cannot start with `/` or contain `..`; move shared files into the project (a symlink inside the project to a file outside it is refused too)");
                continue;
            }

            var matches = FileGlob.Expand(root, pattern.Name);
            if (matches.Count == 0)
                diagnostics.Warning(DiagnosticCodes.IncludeMatchedNothing, pattern.Location,
                    $"include pattern `{pattern.Name}` matched no file", "patterns are relative to the folder of metrics.yml; `**` matches any depth");
            foreach (var match in matches.Where(seen.Add))
                yield return match;
        }
    }

    private void ReadDefinitions(YamlMappingReader reader, string file)
    {
        foreach (var item in Items(reader, "sources", file))
            ReadSource(item, file);
        foreach (var item in Items(reader, "metrics", file))
            ReadMetric(item, file);
        foreach (var item in Items(reader, "experiments", file))
            ReadExperiment(item, file);
        foreach (var item in Items(reader, "models", file))
            ReadModelProperties(item, file);
    }

    private IEnumerable<YamlMappingNode> Items(YamlMappingReader reader, string key, string file)
    {
        var sequence = reader.Sequence(key);
        if (sequence is null)
            yield break;
        foreach (var item in sequence.Children)
        {
            if (item is YamlMappingNode mapping)
                yield return mapping;
            else
                diagnostics.Error(DiagnosticCodes.WrongNodeType, reader.Location(item), $"each entry of `{key}` must be a mapping with a `name`");
        }
    }

    private void ReadTargets(YamlMappingNode? mapping, string file)
    {
        if (mapping is null)
            return;
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } name })
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, keyNode), "targets: each target name must be a plain name", "write `name: {adapter: sqlite, ...}`");
                continue;
            }

            if (valueNode is not YamlMappingNode targetNode)
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, valueNode), $"target `{name}` must be a mapping with an `adapter`");
                continue;
            }

            var settings = new SortedDictionary<string, string>(StringComparer.Ordinal);
            string? adapter = null;
            foreach (var (settingKey, settingValue) in targetNode.Children)
            {
                if (settingKey is not YamlScalarNode { Value: { } key })
                {
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, settingKey), $"target `{name}`: setting names must be plain names");
                    continue;
                }

                if (settingValue is not YamlScalarNode { Value: { } text })
                {
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, settingValue), $"target `{name}`: `{key}` must be a single value");
                    continue;
                }

                if (key == "adapter")
                    adapter = text;
                else
                    settings[key] = text;
            }

            if (adapter is null)
                diagnostics.Error(DiagnosticCodes.MissingKey, Location(file, targetNode), $"target `{name}`: required key `adapter` is missing",
                    $"adapters: {string.Join(", ", MetricCompiler.Sql.Dialects.SqlDialects.Names)}");
            _targets.Add(new TargetDefinition(name, adapter ?? "sqlite", settings, Location(file, keyNode)));
        }
    }

    /// <summary>
    /// <c>notify: {webhook_url_env: METRICC_WEBHOOK_URL, timeout_seconds: 5, readout_base_url: https://...}</c>. A literal
    /// <c>webhook_url</c> is refused: the URL of a Slack-style webhook is its credential.
    /// </summary>
    private void ReadNotify(YamlMappingReader reader, string file)
    {
        var mapping = reader.Mapping("notify");
        if (mapping is null)
            return;
        var notify = new YamlMappingReader(mapping, file, diagnostics, "notify", YamlKeys.Notify);
        if (notify.Peek("webhook_url") is not null)
        {
            // Read (so it is not reported again as unknown), never echoed: the value is the credential.
            notify.Node("webhook_url");
            diagnostics.Error(DiagnosticCodes.InvalidValue, notify.At("webhook_url"), "notify: `webhook_url` must not be written in the project file",
                "a webhook URL is a secret: put it in an environment variable and write `webhook_url_env: VARIABLE_NAME`");
        }

        var variable = notify.Reference("webhook_url_env", required: true);
        var timeout = notify.Number("timeout_seconds") ?? NotifySettings.DefaultTimeoutSeconds;
        if (timeout is <= 0 or > 60)
            diagnostics.Error(DiagnosticCodes.OutOfRange, notify.At("timeout_seconds"), $"notify: timeout_seconds must be above 0 and at most 60, not {timeout.ToString(CultureInfo.InvariantCulture)}");
        var baseUrl = notify.String("readout_base_url");
        if (baseUrl is not null && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            diagnostics.Error(DiagnosticCodes.InvalidValue, notify.At("readout_base_url"), $"notify: readout_base_url `{baseUrl}` is not an http(s) URL",
                "write where target/ is published, e.g. `https://ci.example.com/artifacts/target/`");
        if (variable is not null && !System.Text.RegularExpressions.Regex.IsMatch(variable.Name, "^[A-Za-z_][A-Za-z0-9_]*$"))
            diagnostics.Error(DiagnosticCodes.InvalidValue, variable.Location, $"notify: `{variable.Name}` is not an environment variable name",
                "write the variable's name (`METRICC_WEBHOOK_URL`), never the URL itself");
        notify.Finish();
        if (variable is not null)
            _notify = new NotifySettings(variable, timeout, baseUrl, notify.Location());
    }

    private void ReadDemoData(YamlMappingReader reader, string file)
    {
        var mapping = reader.Mapping("demo_data");
        if (mapping is null)
            return;
        var demo = new YamlMappingReader(mapping, file, diagnostics, "demo_data", YamlKeys.DemoData);
        var users = demo.Integer("users") ?? 40_000;
        var seed = demo.Integer("seed") ?? 20260105;
        if (users is < 1 or > 999_999)
            diagnostics.Error(DiagnosticCodes.OutOfRange, demo.At("users"), $"demo_data: users must be between 1 and 999,999, not {users}");
        if (seed < 0)
            diagnostics.Error(DiagnosticCodes.OutOfRange, demo.At("seed"), $"demo_data: seed must be zero or positive, not {seed}");
        demo.Finish();
        _demoData = new DemoDataSettings(users, (ulong)Math.Max(0, seed), demo.Location());
    }

    private void ReadSource(YamlMappingNode node, string file)
    {
        var name = NameOf(node, file, "source");
        var reader = new YamlMappingReader(node, file, diagnostics, $"source `{name}`", YamlKeys.Source);
        reader.String("name", required: true);
        var columns = new List<ColumnDefinition>();
        var tests = new List<DataTestDefinition>();
        foreach (var columnNode in reader.Sequence("columns", required: true)?.Children ?? [])
        {
            if (columnNode is not YamlMappingNode columnMapping)
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, columnNode), $"source `{name}`: each column must be a mapping with `name` and `type`");
                continue;
            }

            var column = new YamlMappingReader(columnMapping, file, diagnostics, $"source `{name}` column", YamlKeys.SourceColumn);
            var columnName = column.String("name", required: true);
            var type = column.Choice("type", ColumnTypes, required: true);
            var description = column.String("description");
            var pii = column.Boolean("pii") ?? false;
            var nonNegative = column.Boolean("non_negative") ?? false;
            if (columnName is not null)
                tests.AddRange(ReadTests(column, $"source `{name}` column `{columnName}`", new NameReference(columnName, column.At("name"))));
            column.Finish();
            if (columnName is not null)
                columns.Add(new ColumnDefinition(columnName, type ?? ColumnType.String, description, column.Location(), pii, nonNegative));
        }

        ConsentDefinition? consent = null;
        if (reader.Mapping("consent") is { } consentNode)
        {
            var consentReader = reader.Nested(consentNode, "consent", YamlKeys.Consent);
            var consentColumn = consentReader.Reference("column", required: true);
            var consentValue = consentReader.String("value", required: true);
            consentReader.Finish();
            if (consentColumn is not null && consentValue is not null)
                consent = new ConsentDefinition(consentColumn, consentValue, consentReader.Location());
        }

        var retentionDays = reader.Integer("retention_days");
        if (retentionDays is < 1 or > 36_600)
        {
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("retention_days"), $"source `{name}`: retention_days must be between 1 and 36,600, not {retentionDays}",
                "the number of days of rows staging keeps, counted back from the time of the run");
            retentionDays = null;
        }

        tests.AddRange(ReadTests(reader, $"source `{name}`", null));
        var freshness = ReadFreshness(reader, name);
        var incremental = ReadSourceIncremental(reader, name);
        var model = reader.Reference("model");
        if (model is not null && reader.Has("table"))
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reader.At("model"), $"source `{name}`: `model` and `table` both say where the rows are",
                "keep `model: name` to read a SQL model's table, or `table:` for a raw warehouse table");

        var source = new SourceDefinition(
            name,
            reader.String("description"),
            reader.String("table") ?? model?.Name ?? name,
            reader.String("entity", required: true) ?? "",
            reader.String("event_time", required: true) ?? "",
            reader.String("unique_key"),
            columns,
            reader.Names("tags").Select(t => t.Name).ToList(),
            reader.Location(),
            reader.FieldLocations,
            consent,
            retentionDays)
        {
            Model = model,
            Tests = tests,
            Freshness = freshness,
            Incremental = incremental,
        };
        reader.Finish();
        _sources.Add(source);
    }

    /// <summary><c>incremental: {lookback_days: 2}</c> on a source: its staging keeps what it staged before the window.</summary>
    private Models.IncrementalConfig? ReadSourceIncremental(YamlMappingReader source, string name)
    {
        if (source.Mapping("incremental") is not { } node)
            return null;
        var reader = source.Nested(node, "incremental", YamlKeys.SourceIncremental);
        var lookback = reader.Integer("lookback_days");
        reader.Finish();
        if (lookback is < 0 or > Models.IncrementalConfig.MaxLookbackDays)
        {
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("lookback_days"),
                $"source `{name}`: incremental lookback_days must be between 0 and {Models.IncrementalConfig.MaxLookbackDays:N0}, not {lookback}",
                "the days before the latest staged day that every run stages again, so that events arriving late are counted");
            return null;
        }

        return new Models.IncrementalConfig(source.String("event_time") ?? "", lookback ?? Models.IncrementalConfig.DefaultLookbackDays, reader.Location());
    }

    private static readonly Dictionary<string, FreshnessPeriod> FreshnessPeriods = new(StringComparer.Ordinal)
    {
        ["minute"] = FreshnessPeriod.Minute,
        ["hour"] = FreshnessPeriod.Hour,
        ["day"] = FreshnessPeriod.Day,
    };

    /// <summary><c>freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 1, period: day}}</c>, as dbt spells it.</summary>
    private FreshnessDefinition? ReadFreshness(YamlMappingReader source, string name)
    {
        if (source.Mapping("freshness") is not { } node)
            return null;
        var reader = source.Nested(node, "freshness", YamlKeys.Freshness);
        FreshnessThreshold? Threshold(string key)
        {
            if (reader.Mapping(key) is not { } thresholdNode)
                return null;
            var threshold = reader.Nested(thresholdNode, key, YamlKeys.FreshnessThreshold);
            var count = threshold.Integer("count", required: true);
            var period = threshold.Choice("period", FreshnessPeriods, required: true);
            threshold.Finish();
            if (count is < 1 or > 100_000)
            {
                diagnostics.Error(DiagnosticCodes.InvalidFreshness, threshold.At("count"), $"source `{name}` freshness `{key}`: count must be between 1 and 100,000, not {count}",
                    "how many minutes, hours or days old the latest event may be");
                return null;
            }

            return count is null || period is null ? null : new FreshnessThreshold(count.Value, period.Value);
        }

        var warn = Threshold("warn_after");
        var error = Threshold("error_after");
        reader.Finish();
        if (warn is null && error is null)
        {
            diagnostics.Error(DiagnosticCodes.InvalidFreshness, source.At("freshness"), $"source `{name}`: `freshness` needs `warn_after` or `error_after`",
                "write `freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 1, period: day}}`");
            return null;
        }

        if (warn is not null && error is not null && warn.Span > error.Span)
            diagnostics.Error(DiagnosticCodes.InvalidFreshness, source.At("freshness"), $"source `{name}`: `warn_after` ({warn}) is later than `error_after` ({error})",
                "a source warns first and fails later: make `warn_after` the shorter age");
        return new FreshnessDefinition(warn, error, source.At("freshness"));
    }

    private void ReadMetric(YamlMappingNode node, string file)
    {
        var name = NameOf(node, file, "metric");
        var reader = new YamlMappingReader(node, file, diagnostics, $"metric `{name}`", YamlKeys.Metric);
        reader.String("name", required: true);
        var label = reader.String("label");
        var description = reader.String("description");
        var owner = reader.String("owner");
        var type = ReadMetricType(reader);
        var spec = type.Read(reader);
        var metric = new MetricDefinition(
            name,
            type.Name,
            label,
            description,
            owner,
            spec,
            reader.Choice("desired_direction", Directions) ?? Direction.Increase,
            reader.Names("tags").Select(t => t.Name).ToList(),
            reader.Location(),
            reader.FieldLocations,
            ReadMaterialization(reader))
        {
            Tests = ReadTests(reader, $"metric `{name}`", null),
            Cap = ReadCap(reader, $"metric `{name}`"),
        };
        reader.Finish();
        _metrics.Add(metric);
    }

    /// <summary><c>cap: {percentile: 0.99}</c> or <c>cap: {value: 1000}</c>: exactly one of the two.</summary>
    private MetricCap? ReadCap(YamlMappingReader reader, string context)
    {
        if (reader.Mapping("cap") is not { } node)
            return null;
        var at = reader.At("cap");
        var nested = reader.Nested(node, "cap", YamlKeys.Cap);
        var percentile = nested.Number("percentile");
        var value = nested.Number("value");
        nested.Finish();
        const string hint = "write `cap: {percentile: 0.99}` (a share of units strictly between 0 and 1) or `cap: {value: 1000}`";
        if (percentile is null == value is null)
        {
            diagnostics.Error(DiagnosticCodes.InvalidValue, at, $"{context}: `cap` takes exactly one of `percentile` or `value`", hint);
            return null;
        }

        if (percentile is { } p && p is not (> 0 and < 1))
        {
            diagnostics.Error(DiagnosticCodes.OutOfRange, nested.At("percentile"), $"{context}: cap percentile must be strictly between 0 and 1, not {p.ToString(CultureInfo.InvariantCulture)}", hint);
            return null;
        }

        return new MetricCap(percentile, value, at);
    }

    private static readonly IReadOnlyDictionary<string, MetricCompiler.Sql.Model.TimeGrain> Grains =
        Enum.GetValues<MetricCompiler.Sql.Model.TimeGrain>().ToDictionary(g => g.ToString().ToLowerInvariant(), g => g, StringComparer.Ordinal);

    /// <summary><c>materialize: {grain: week, dimensions: [country]}</c>; the grain defaults to day.</summary>
    private static MetricMaterialization? ReadMaterialization(YamlMappingReader reader)
    {
        if (reader.Mapping("materialize") is not { } node)
            return null;
        var nested = reader.Nested(node, "materialize", YamlKeys.Materialize);
        var grain = nested.Choice("grain", Grains) ?? MetricCompiler.Sql.Model.TimeGrain.Day;
        var dimensions = nested.Names("dimensions");
        nested.Finish();
        return new MetricMaterialization(grain, dimensions, reader.At("materialize"));
    }

    /// <summary><c>type:</c> names the metric type; without it, <c>agg: ratio</c> means a ratio and any other <c>agg</c> a simple metric.</summary>
    private MetricType ReadMetricType(YamlMappingReader reader)
    {
        if (reader.String("type") is { } typeName)
        {
            if (MetricTypes.Find(typeName) is { } type)
                return type;
            reader.Report(DiagnosticCodes.InvalidValue, reader.At("type"), $"`{typeName}` is not a metric type",
                NameSuggester.Suggest(typeName, MetricTypes.Names) is { } s ? $"did you mean `{s}`? types: {string.Join(", ", MetricTypes.Names)}" : $"types: {string.Join(", ", MetricTypes.Names)}");
            return SimpleMetricType.Instance;
        }

        return reader.Peek("agg") == "ratio" ? RatioMetricType.Instance : SimpleMetricType.Instance;
    }

    private void ReadExperiment(YamlMappingNode node, string file)
    {
        var id = NameOf(node, file, "experiment", key: "id");
        var context = $"experiment `{id}`";
        var reader = new YamlMappingReader(node, file, diagnostics, context, YamlKeys.Experiment);
        reader.String("id", required: true);

        ExposureDefinition exposure;
        var exposureNode = reader.Mapping("exposure", required: true);
        if (exposureNode is not null)
        {
            var exposureReader = new YamlMappingReader(exposureNode, file, diagnostics, $"{context} exposure", YamlKeys.Exposure);
            exposure = new ExposureDefinition(
                exposureReader.Reference("source", required: true) ?? new NameReference("", exposureReader.Location()),
                exposureReader.String("variant_column") ?? "variant",
                exposureReader.Snippet("filter"),
                exposureReader.Location());
            exposureReader.Finish();
        }
        else
        {
            exposure = new ExposureDefinition(new NameReference("", reader.Location()), "variant", null, reader.Location());
        }

        var holdout = ReadHoldout(reader.Mapping("holdout"), file, context);
        if (holdout is not null && reader.Has("variants"))
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reader.At("variants"), $"{context}: a holdout's variants are implied: `{HoldoutVariants.Holdout}` (the held-out share, control) and `{HoldoutVariants.Released}` (everyone else)",
                "remove `variants`");
        if (holdout is not null && reader.Has("assignment"))
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reader.At("assignment"), $"{context}: a holdout is assigned by its namespace range; it takes no `assignment`",
                "give the hash attributes under `holdout: {hash_attribute: ...}`");
        var variants = new List<VariantDefinition>();
        if (holdout is not null)
        {
            var held = holdout.Share.End - holdout.Share.Start;
            variants.Add(new VariantDefinition(HoldoutVariants.Holdout, held, true, "held out of everything shipped in the namespace", holdout.Location));
            variants.Add(new VariantDefinition(HoldoutVariants.Released, 1 - held, false, "everyone else: every change shipped in the namespace", holdout.Location));
        }

        foreach (var variantNode in reader.Sequence("variants", required: holdout is null)?.Children ?? [])
        {
            if (variantNode is not YamlMappingNode variantMapping)
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, variantNode), $"{context}: each variant must be a mapping with `name` and `weight`");
                continue;
            }

            var variant = new YamlMappingReader(variantMapping, file, diagnostics, $"{context} variant", YamlKeys.Variant);
            var variantName = variant.String("name", required: true);
            var weight = variant.Number("weight", required: true);
            var control = variant.Boolean("control") ?? false;
            var description = variant.String("description");
            variant.Finish();
            if (variantName is not null)
                variants.Add(new VariantDefinition(variantName, weight ?? 0, control, description, variant.Location()));
        }

        IReadOnlyList<NameReference> primary = [], secondary = [];
        var guardrails = new List<GuardrailDefinition>();
        var metricsNode = reader.Mapping("metrics", required: true);
        if (metricsNode is not null)
        {
            var metrics = new YamlMappingReader(metricsNode, file, diagnostics, $"{context} metrics", YamlKeys.ExperimentMetrics);
            primary = metrics.Names("primary");
            secondary = metrics.Names("secondary");
            foreach (var guardrailNode in metrics.Sequence("guardrails")?.Children ?? [])
            {
                if (guardrailNode is not YamlMappingNode guardrailMapping)
                {
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, guardrailNode),
                        $"{context}: each guardrail must be a mapping with `metric`, `harmful_direction` and `margin`");
                    continue;
                }

                var guardrail = new YamlMappingReader(guardrailMapping, file, diagnostics, $"{context} guardrail", YamlKeys.Guardrail);
                var metric = guardrail.Reference("metric", required: true);
                var harm = guardrail.Choice("harmful_direction", Directions, required: true);
                var margin = guardrail.Number("margin", required: true);
                guardrail.Finish();
                if (margin is <= 0)
                    diagnostics.Error(DiagnosticCodes.OutOfRange, guardrail.At("margin"), $"{context}: guardrail margin must be positive: the relative change in the harmful direction that is tolerated",
                        "for example `margin: 0.05` tolerates up to 5% harm");
                if (metric is not null)
                    guardrails.Add(new GuardrailDefinition(metric, harm ?? Direction.Increase, margin ?? 0.05, guardrail.Location()));
            }

            metrics.Finish();
        }

        var analysis = ReadAnalysis(reader.Mapping("analysis"), file, context);
        var decision = ReadDecision(reader.Mapping("decision"), file, context);
        var assignment = ReadAssignment(reader.Mapping("assignment"), file, context);
        var experiment = new ExperimentDefinition(
            id,
            reader.String("name"),
            reader.String("hypothesis"),
            reader.String("owner"),
            exposure,
            variants,
            reader.Date("start", required: true) ?? DateOnly.MinValue,
            reader.Date("end", required: true) ?? DateOnly.MinValue,
            primary,
            secondary,
            guardrails,
            analysis,
            decision,
            reader.Names("tags").Select(t => t.Name).ToList(),
            reader.Location(),
            reader.FieldLocations,
            holdout is null ? assignment : null,
            holdout);
        reader.Finish();
        _experiments.Add(experiment);
    }

    /// <summary><c>{name, range: [start, end]}</c>: a share of a namespace, 0 &lt;= start &lt; end &lt;= 1.</summary>
    private NamespaceShare? ReadNamespaceShare(YamlMappingReader ns, string context, string nameKey = "name")
    {
        var name = ns.String(nameKey, required: true);
        var range = ns.Sequence("range", required: true);
        double? start = null, end = null;
        if (range is not null)
        {
            if (range.Children.Count == 2 && range.Children.All(c => c is YamlScalarNode { Value: { } v } && double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)))
            {
                start = double.Parse(((YamlScalarNode)range.Children[0]).Value!, System.Globalization.CultureInfo.InvariantCulture);
                end = double.Parse(((YamlScalarNode)range.Children[1]).Value!, System.Globalization.CultureInfo.InvariantCulture);
                if (!(start >= 0 && start < end && end <= 1))
                {
                    diagnostics.Error(DiagnosticCodes.OutOfRange, ns.At("range"), $"{context}: namespace range must be [start, end] with 0 <= start < end <= 1, not [{start}, {end}]");
                    start = end = null;
                }
            }
            else
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, ns.At("range"), $"{context}: namespace range must be two numbers, [start, end]", "for example `range: [0, 0.5]` takes the first half of the namespace");
            }
        }

        return name is not null && start is { } s && end is { } e ? new NamespaceShare(name, s, e, ns.Location()) : null;
    }

    /// <summary><c>holdout: {namespace, range, hash_attribute}</c>; its variants are implied.</summary>
    private HoldoutDefinition? ReadHoldout(YamlMappingNode? node, string file, string context)
    {
        if (node is null)
            return null;
        context = $"{context} holdout";
        var reader = new YamlMappingReader(node, file, diagnostics, context, YamlKeys.Holdout);
        var share = ReadNamespaceShare(reader, context, nameKey: "namespace");
        var attributes = reader.Names("hash_attribute");
        reader.Finish();
        return share is null ? null : new HoldoutDefinition(share, attributes, reader.Location());
    }

    /// <summary><c>assignment:</c> of an experiment: hash attributes, seed, hash version, coverage, namespace share, overrides.</summary>
    private AssignmentDefinition? ReadAssignment(YamlMappingNode? node, string file, string context)
    {
        if (node is null)
            return null;
        context = $"{context} assignment";
        var reader = new YamlMappingReader(node, file, diagnostics, context, YamlKeys.Assignment);
        var attributes = reader.Names("hash_attribute");
        if (attributes.Count == 0)
            attributes = reader.Names("hash_attributes");
        var seed = reader.String("seed");
        var version = reader.Integer("hash_version") ?? 2;
        if (!MetricCompiler.Assignment.UnitHash.Versions.Contains(version))
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("hash_version"), $"{context}: hash_version {version} does not exist",
                $"versions: {string.Join(", ", MetricCompiler.Assignment.UnitHash.Versions)} (2 is the SDKs' current default)");
        var coverage = reader.Number("coverage") ?? 1;
        if (coverage is <= 0 or > 1)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("coverage"), $"{context}: coverage is the share of eligible units that enter, between 0 (exclusive) and 1, not {coverage}");

        NamespaceShare? share = null;
        if (reader.Mapping("namespace") is { } nsNode)
        {
            var ns = reader.Nested(nsNode, "namespace", YamlKeys.Namespace);
            share = ReadNamespaceShare(ns, context);
            ns.Finish();
        }

        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.Mapping("overrides") is { } overridesNode)
        {
            foreach (var (keyNode, valueNode) in overridesNode.Children)
            {
                if (keyNode is YamlScalarNode { Value: { } unit } && valueNode is YamlScalarNode { Value: { } variant })
                    overrides[unit] = variant;
                else
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, keyNode), $"{context}: each override maps a unit id to a variant name", "for example `overrides: {qa_user_1: treatment}`");
            }
        }

        var locations = reader.FieldLocations;
        reader.Finish();
        return new AssignmentDefinition(attributes, seed, version, coverage, share, overrides, reader.Location(), locations);
    }

    private AnalysisSettings ReadAnalysis(YamlMappingNode? node, string file, string context)
    {
        var defaults = new AnalysisSettings(0.05, MultipleTestingCorrection.None, AnalysisMethod.Frequentist, new CupedSettings(false, 14), 0.001, null, 0.8,
            SequentialTuning: 5000, Prior: null, BalanceThreshold: 0.001, Segments: []);
        if (node is null)
            return defaults;
        var reader = new YamlMappingReader(node, file, diagnostics, $"{context} analysis", YamlKeys.Analysis);
        var alpha = reader.Number("alpha") ?? defaults.Alpha;
        if (alpha is <= 0 or >= 1)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("alpha"), $"{context}: alpha must be between 0 and 1 (exclusive), not {alpha}", "0.05 is the usual choice");
        var srm = reader.Number("srm_threshold") ?? defaults.SrmThreshold;
        if (srm is <= 0 or >= 1)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("srm_threshold"), $"{context}: srm_threshold must be between 0 and 1, not {srm}", "0.001 is the usual choice");
        var power = reader.Number("power") ?? defaults.Power;
        if (power is <= 0 or >= 1)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("power"), $"{context}: power must be between 0 and 1, not {power}");
        var mde = reader.Number("minimum_detectable_effect");
        if (mde is <= 0)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("minimum_detectable_effect"), $"{context}: minimum_detectable_effect is a relative lift and must be positive (0.05 = 5%)");

        var cuped = defaults.Cuped;
        var cupedNode = reader.Node("cuped");
        if (cupedNode is YamlScalarNode)
        {
            cuped = cuped with { Enabled = reader.Boolean("cuped") ?? false };
        }
        else if (cupedNode is YamlMappingNode cupedMapping)
        {
            var cupedReader = new YamlMappingReader(cupedMapping, file, diagnostics, $"{context} cuped", YamlKeys.Cuped);
            var lookback = cupedReader.Integer("lookback_days") ?? defaults.Cuped.LookbackDays;
            if (lookback is < 1 or > MaxLookbackDays)
                diagnostics.Error(DiagnosticCodes.OutOfRange, cupedReader.At("lookback_days"), $"{context}: cuped lookback_days must be between 1 and {MaxLookbackDays}, not {lookback}",
                    "14 to 28 days is usual: the pre-exposure period CUPED reads");
            if (lookback is < 1 or > MaxLookbackDays)
                lookback = defaults.Cuped.LookbackDays;
            cuped = new CupedSettings(cupedReader.Boolean("enabled") ?? true, lookback);
            cupedReader.Finish();
        }

        var tuning = reader.Number("sequential_tuning") ?? defaults.SequentialTuning;
        if (tuning <= 0)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("sequential_tuning"), $"{context}: sequential_tuning (N*) must be positive", "5000 is the usual choice: the sample size at which the sequence is tightest");
        var balance = reader.Number("balance_threshold") ?? defaults.BalanceThreshold;
        if (balance is <= 0 or >= 1)
            diagnostics.Error(DiagnosticCodes.OutOfRange, reader.At("balance_threshold"), $"{context}: balance_threshold must be between 0 and 1");

        PriorSettings? prior = null;
        if (reader.Mapping("prior") is { } priorNode)
        {
            var priorReader = new YamlMappingReader(priorNode, file, diagnostics, $"{context} prior", YamlKeys.Prior);
            var mean = priorReader.Number("mean") ?? 0;
            var variance = priorReader.Number("variance", required: true) ?? 1;
            if (variance <= 0)
                diagnostics.Error(DiagnosticCodes.OutOfRange, priorReader.At("variance"), $"{context}: the prior's variance must be positive");
            priorReader.Finish();
            prior = new PriorSettings(mean, variance);
        }

        var segments = new List<SegmentDefinition>();
        foreach (var segmentNode in reader.Sequence("segments")?.Children ?? [])
        {
            if (segmentNode is not YamlMappingNode segmentMapping)
            {
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, segmentNode), $"{context}: each segment must be a mapping with `name` and `source`");
                continue;
            }

            var segment = new YamlMappingReader(segmentMapping, file, diagnostics, $"{context} segment", YamlKeys.Segment);
            var name = segment.String("name", required: true);
            var source = segment.Reference("source", required: true);
            var column = segment.String("column") ?? name;
            segment.Finish();
            if (name is not null && source is not null)
                segments.Add(new SegmentDefinition(name, source, column!, segment.Location()));
        }

        var (metricCovariates, attributeCovariates) = ReadCovariates(reader, file, context);
        var method = reader.Choice("method", Methods) ?? defaults.Method;
        if (prior is not null && method != AnalysisMethod.Bayesian)
            diagnostics.Warning(DiagnosticCodes.UnsupportedCombination, reader.At("prior"), $"{context}: `prior` is used only with `method: bayesian`");
        var result = new AnalysisSettings(
            alpha,
            reader.Choice("correction", Corrections) ?? defaults.Correction,
            method,
            cuped,
            srm,
            mde,
            power,
            tuning,
            prior,
            balance,
            segments,
            reader.Choice("scale", Scales) ?? TestScale.Relative)
        {
            Covariates = metricCovariates,
            AttributeCovariates = attributeCovariates,
        };
        reader.Finish();
        return result;
    }

    /// <summary>
    /// <c>covariates:</c> a list of metric names and <c>{attribute, source, levels}</c> mappings (unit attributes).
    /// </summary>
    private (IReadOnlyList<NameReference> Metrics, IReadOnlyList<AttributeCovariateDefinition> Attributes) ReadCovariates(YamlMappingReader reader, string file, string context)
    {
        if (reader.Node("covariates") is not YamlSequenceNode sequence || sequence.Children.All(c => c is YamlScalarNode))
            return (reader.Names("covariates"), []);
        var metrics = new List<NameReference>();
        var attributes = new List<AttributeCovariateDefinition>();
        foreach (var item in sequence.Children)
        {
            switch (item)
            {
                case YamlScalarNode { Value: { } name }:
                    metrics.Add(new NameReference(name, Location(file, item)));
                    break;
                case YamlMappingNode mapping:
                    var entry = new YamlMappingReader(mapping, file, diagnostics, $"{context} covariate", YamlKeys.Covariate);
                    var attribute = entry.String("attribute", required: true);
                    var source = entry.Reference("source", required: true);
                    List<string>? levels = null;
                    if (entry.Node("levels") is { } levelsNode)
                    {
                        levels = [];
                        if (levelsNode is YamlSequenceNode levelList)
                        {
                            foreach (var level in levelList.Children)
                            {
                                if (level is YamlScalarNode { Value: { } text })
                                    levels.Add(text);
                                else
                                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, level), $"{context}: each level of covariate `{attribute}` must be a value");
                            }
                        }
                        else
                        {
                            diagnostics.Error(DiagnosticCodes.WrongNodeType, entry.At("levels"), $"{context}: `levels` of covariate `{attribute}` must be a list of values");
                        }
                    }

                    entry.Finish();
                    if (attribute is not null && source is not null)
                        attributes.Add(new AttributeCovariateDefinition(attribute, source, levels, entry.Location()));
                    break;
                default:
                    diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(file, item), $"{context}: each entry of `covariates` must be a metric name or an `{{attribute, source, levels}}` mapping");
                    break;
            }
        }

        return (metrics, attributes);
    }

    private static readonly Dictionary<string, PrimaryRule> PrimaryRules = new(StringComparer.Ordinal)
    {
        ["all"] = PrimaryRule.All,
        ["any"] = PrimaryRule.Any,
    };

    private static readonly Dictionary<string, GuardrailRule> GuardrailRules = new(StringComparer.Ordinal)
    {
        ["no_breach"] = GuardrailRule.NoBreach,
        ["non_inferior"] = GuardrailRule.NonInferior,
    };

    private DecisionRules ReadDecision(YamlMappingNode? node, string file, string context)
    {
        if (node is null)
            return DecisionRules.Default;
        var reader = new YamlMappingReader(node, file, diagnostics, $"{context} decision", YamlKeys.Decision);
        var rules = new DecisionRules(
            reader.Choice("ship_when_primary", PrimaryRules) ?? DecisionRules.Default.Primary,
            reader.Choice("guardrails", GuardrailRules) ?? DecisionRules.Default.Guardrails,
            reader.Boolean("require_srm_clean") ?? DecisionRules.Default.RequireCleanSrm);
        reader.Finish();
        return rules;
    }

    private string NameOf(YamlMappingNode node, string file, string what, string key = "name")
    {
        foreach (var (k, v) in node.Children)
            if (k is YamlScalarNode { Value: var name } && name == key && v is YamlScalarNode { Value: { Length: > 0 } value })
                return value;
        return $"<{what} at {Location(file, node)}>";
    }

    private static SourceLocation Location(string file, YamlNode node) => new(file, (int)node.Start.Line, (int)node.Start.Column);
}
