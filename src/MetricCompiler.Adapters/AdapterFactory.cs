using System.Globalization;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Adapters;

/// <summary>A target that cannot be opened: unknown adapter, missing setting or environment variable.</summary>
public sealed class TargetException(string message) : Exception(message);

/// <summary>
/// Opens the adapter a target names. Any setting can be given as <c>key</c> or as <c>key_env</c>, the name of an
/// environment variable holding it; secrets must use the second form.
/// </summary>
public static class AdapterFactory
{
    /// <summary>The target used when the project declares none: the embedded DuckDB under target/.</summary>
    public static TargetDefinition DefaultTarget { get; } =
        new("dev", "duckdb", new Dictionary<string, string> { ["path"] = DuckDbDefaultPath }, Core.Diagnostics.SourceLocation.None);

    private const string SqliteDefaultPath = "target/warehouse.db";
    private const string DuckDbDefaultPath = "target/warehouse.duckdb";

    /// <summary>The database file of an embedded target (relative to the project), or null for a server or in-memory target.</summary>
    public static string? EmbeddedFile(TargetDefinition target)
    {
        var path = target.Adapter switch
        {
            "sqlite" => Setting(target, "path") ?? SqliteDefaultPath,
            "duckdb" => Setting(target, "path") ?? DuckDbDefaultPath,
            _ => null,
        };
        return path == ":memory:" ? null : path;
    }

    /// <summary>
    /// Whether <c>--threads</c> may give each worker its own connection: a server engine, or a DuckDB file (connections
    /// of one process share the database). SQLite has one writer at a time and an in-memory DuckDB is private to its
    /// connection: those run serially.
    /// </summary>
    public static bool AllowsConnectionPerThread(TargetDefinition target) => target.Adapter switch
    {
        "sqlite" => false,
        "duckdb" => EmbeddedFile(target) is not null,
        _ => true,
    };

    public static TargetDefinition Resolve(ProjectDefinition project, string? name)
    {
        name ??= project.DefaultTarget;
        if (name is null)
            return project.Targets.Count > 0 ? project.Targets[0] : DefaultTarget;
        return project.Targets.FirstOrDefault(t => t.Name == name)
            ?? (name == DefaultTarget.Name && project.Targets.Count == 0
                ? DefaultTarget
                : throw new TargetException($"target `{name}` is not declared; targets: {string.Join(", ", project.Targets.Select(t => t.Name))}"));
    }

    public static IWarehouseAdapter Open(TargetDefinition target, string projectRoot)
    {
        switch (target.Adapter)
        {
            case "sqlite":
                var relative = Setting(target, "path") ?? SqliteDefaultPath;
                var path = relative == ":memory:" ? relative : Path.GetFullPath(Path.Combine(projectRoot, relative));
                return SqliteAdapter.Open(path, relative);
            case "duckdb":
                var duckRelative = Setting(target, "path") ?? DuckDbDefaultPath;
                var duckPath = duckRelative == ":memory:" ? duckRelative : Path.GetFullPath(Path.Combine(projectRoot, duckRelative));
                return DuckDbAdapter.Open(duckPath, duckRelative, Setting(target, "memory_limit"));
            case "postgres":
                var portText = Setting(target, "port") ?? "5432";
                if (!int.TryParse(portText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
                    throw new TargetException($"target `{target.Name}`: port `{portText}` is not a number");
                return PostgresAdapter.Open(
                    Setting(target, "host") ?? "127.0.0.1",
                    port,
                    Required(target, "database"),
                    Required(target, "user"),
                    Setting(target, "password"),
                    Setting(target, "schema") ?? "public");
            case "trino" or "snowflake":
                try
                {
                    return target.Adapter == "trino" ? OpenTrino(target) : OpenSnowflake(target);
                }
                catch (ArgumentException e)
                {
                    // The clients' option checks (a malformed account, a user with ':' under basic auth): usage, not a crash.
                    throw new TargetException($"target `{target.Name}`: {e.Message}");
                }
            default:
                throw new TargetException(
                    $"target `{target.Name}` uses adapter `{target.Adapter}`, which this version compiles SQL for but cannot execute yet; " +
                    "run `metricc compile --target " + target.Name + "` to get its SQL, or use a duckdb, sqlite, postgres, trino or snowflake target to run");
        }
    }

    private static Remote.TrinoAdapter OpenTrino(TargetDefinition target)
    {
        var scheme = Setting(target, "scheme") ?? "https";
        if (scheme is not ("http" or "https"))
            throw new TargetException($"target `{target.Name}`: scheme `{scheme}` must be `http` or `https`");
        var port = Port(target, scheme == "https" ? 443 : 8080);
        var user = Required(target, "user");
        var password = Secret(target, "password");
        var jwt = Secret(target, "jwt");
        if (password is not null && jwt is not null)
            throw new TargetException($"target `{target.Name}`: give `password_env` or `jwt_env`, not both");
        var authentication = password is not null ? Trino.TrinoAuthentication.Basic(user, password)
            : jwt is not null ? Trino.TrinoAuthentication.Bearer(jwt)
            : Trino.TrinoAuthentication.None;
        var endpoint = new UriBuilder(scheme, Required(target, "host"), port).Uri;
        return Remote.TrinoAdapter.Open(endpoint, user, Required(target, "catalog"), Required(target, "schema"), authentication, password ?? jwt);
    }

    private static Remote.SnowflakeAdapter OpenSnowflake(TargetDefinition target)
    {
        var keyPath = Setting(target, "private_key_path");
        var passphrase = Secret(target, "private_key_passphrase");
        var token = Secret(target, "oauth_token");
        if ((keyPath is null) == (token is null))
            throw new TargetException($"target `{target.Name}` needs exactly one credential: `private_key_path_env` (key-pair JWT) or `oauth_token_env` (OAuth)");
        Snowflake.SnowflakeAuthentication authentication;
        string? pem = null;
        if (keyPath is not null)
        {
            try
            {
                pem = File.ReadAllText(keyPath);
                authentication = Snowflake.SnowflakeAuthentication.KeyPair(pem, passphrase);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                throw new TargetException($"target `{target.Name}`: cannot read the private key named by `private_key_path`: {e.GetType().Name}");
            }
        }
        else
        {
            authentication = Snowflake.SnowflakeAuthentication.OAuth(token!);
        }

        Uri? endpoint = null;
        if (Setting(target, "endpoint") is { } text && !Uri.TryCreate(text, UriKind.Absolute, out endpoint))
            throw new TargetException($"target `{target.Name}`: endpoint `{text}` is not an absolute URL");
        var options = new Snowflake.SnowflakeClientOptions
        {
            Account = Required(target, "account"),
            User = Required(target, "user"),
            Authentication = authentication,
            Endpoint = endpoint,
            Database = Required(target, "database"),
            Schema = Required(target, "schema"),
            Warehouse = Setting(target, "warehouse"),
            Role = Setting(target, "role"),
        };
        return Remote.SnowflakeAdapter.Open(options, [token, passphrase, pem]);
    }

    private static int Port(TargetDefinition target, int fallback)
    {
        var text = Setting(target, "port");
        if (text is null)
            return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new TargetException($"target `{target.Name}`: port `{text}` is not a number");
    }

    /// <summary>A credential: only ever from the environment variable named by <c>key_env</c>, never written in the project.</summary>
    private static string? Secret(TargetDefinition target, string key) =>
        target.Setting(key) is not null
            ? throw new TargetException($"target `{target.Name}`: `{key}` is a secret and must not be written in the project; name an environment variable holding it with `{key}_env`")
            : Setting(target, key);

    /// <summary>A setting written directly, or read from the environment variable named by <c>key_env</c>.</summary>
    public static string? Setting(TargetDefinition target, string key)
    {
        if (target.Setting(key) is { } direct)
            return direct;
        if (target.Setting(key + "_env") is not { } variable)
            return null;
        return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new TargetException($"target `{target.Name}`: environment variable `{variable}` (named by `{key}_env`) is not set");
    }

    private static string Required(TargetDefinition target, string key) =>
        Setting(target, key) ?? throw new TargetException($"target `{target.Name}` needs `{key}` (or `{key}_env`)");
}
