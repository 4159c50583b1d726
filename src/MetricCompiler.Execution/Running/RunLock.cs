using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// One run at a time against an embedded warehouse file: <c>&lt;database&gt;.metricc-lock</c> next to it is held
/// exclusively (an OS file lock, released when the process ends, even by a crash) for the whole run, and
/// <c>.metricc-lock.owner</c> says who holds it. A second run does not wait: it fails with exit 3 naming the first.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream? _lock;
    private readonly string? _ownerFile;

    private RunLock(FileStream? held, string? ownerFile)
    {
        _lock = held;
        _ownerFile = ownerFile;
    }

    /// <summary>The lock of <paramref name="target"/>'s warehouse; a no-op for a server or in-memory target.</summary>
    /// <exception cref="RunLockedException">Another run holds it.</exception>
    public static RunLock Acquire(TargetDefinition target, string projectRoot, string command)
    {
        if (AdapterFactory.EmbeddedFile(target) is not { } database)
            return new RunLock(null, null);
        var path = Path.GetFullPath(Path.Combine(projectRoot, database)) + ".metricc-lock";
        var ownerFile = path + ".owner";
        FileStream held;
        try
        {
            // A folder that cannot be created or written is the warehouse's failure to report, when it is opened.
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RunLock(null, null);
        }

        try
        {
            held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException)
        {
            return new RunLock(null, null);
        }
        catch (IOException)
        {
            var owner = File.Exists(ownerFile) ? File.ReadAllText(ownerFile).Trim() : "another run";
            throw new RunLockedException(
                $"target `{target.Name}` ({database}) is in use by {owner}; nothing was run or replaced: wait for it to finish and run again");
        }

        try
        {
            File.WriteAllText(ownerFile, string.Create(CultureInfo.InvariantCulture,
                $"`metricc {command}` (process {Environment.ProcessId} on {Environment.MachineName}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC)"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lock is held; only the note of who holds it could not be written.
        }

        return new RunLock(held, ownerFile);
    }

    /// <summary>
    /// PostgreSQL: takes a session advisory lock keyed on the schema on the run's own connection (released when it
    /// closes, even if the process dies: the server notices a dead client within a second, also mid-statement). Returns null when taken (or for another engine), else why the run cannot go on,
    /// naming the server process that holds it.
    /// </summary>
    public static string? HeldOnServer(IWarehouseAdapter adapter, TargetDefinition target) => HeldOnServer(adapter, target, "run", out _);

    /// <summary>
    /// As <see cref="HeldOnServer(IWarehouseAdapter, TargetDefinition)"/>, and on Trino and Snowflake, which have no
    /// advisory lock, a table is the lock: <c>create table metricc_run_lock</c> (no <c>if not exists</c>) succeeds for
    /// exactly one run, and <paramref name="release"/> drops it when the run ends. A lock a killed run left behind is
    /// taken over once it is older than <see cref="StaleRemoteLock"/> (no run of ours lasts that long).
    /// </summary>
    public static string? HeldOnServer(IWarehouseAdapter adapter, TargetDefinition target, string command, out IDisposable? release)
    {
        release = null;
        if (target.Adapter is "trino" or "snowflake")
            return HeldOnRemote(adapter, target, command, out release);
        if (target.Adapter != "postgres")
            return null;
        const string key = "hashtext('metricc_run:' || current_schema())";
        // A run killed in the middle of a statement leaves its backend running that statement, holding the lock until it
        // tries to answer; from PostgreSQL 14 the backend also checks every second whether its client is still there.
        adapter.Query("select case when current_setting('server_version_num')::int >= 140000 " +
            "then set_config('client_connection_check_interval', '1000', false) end as checked");
        var taken = adapter.Query($"select pg_try_advisory_lock({key}) as taken")[0]["taken"];
        if (taken is true)
            return null;
        var holders = adapter.Query(
            "select a.pid, a.application_name, a.backend_start from pg_locks l join pg_stat_activity a on a.pid = l.pid " +
            $"where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and l.objid = (({key})::bigint & 4294967295)::text::oid");
        var who = holders.Count == 0 ? "another run" : string.Create(CultureInfo.InvariantCulture,
            $"another run (PostgreSQL backend {holders[0]["pid"]}, connected since {holders[0]["backend_start"]:yyyy-MM-dd HH:mm:ss})");
        return $"target `{target.Name}` is in use by {who}; nothing was run or replaced: wait for it to finish and run again";
    }

    /// <summary>The lock table of a Trino or Snowflake target, in the run's schema.</summary>
    public const string RemoteLockTable = "metricc_run_lock";

    /// <summary>How old a remote lock must be before a new run takes it over from a run that died holding it.</summary>
    public static readonly TimeSpan StaleRemoteLock = TimeSpan.FromHours(6);

    private static string? HeldOnRemote(IWarehouseAdapter adapter, TargetDefinition target, string command, out IDisposable? release)
    {
        release = null;
        var table = adapter.Dialect.QuoteRelation(RemoteLockTable);
        var now = DateTime.UtcNow;
        var holder = string.Create(CultureInfo.InvariantCulture,
            $"`metricc {command}` (process {Environment.ProcessId} on {Environment.MachineName}, started {now:yyyy-MM-dd HH:mm:ss} UTC)").Replace("'", "''");
        var create = $"create table {table} as select '{holder}' as holder, '{now.ToString("o", CultureInfo.InvariantCulture)}' as since";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                adapter.Execute(create);
                release = new RemoteLease(adapter, table);
                return null;
            }
            catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e) && adapter.TableExists(RemoteLockTable))
            {
                var rows = adapter.Query($"select holder, since from {table}");
                var who = rows.Count == 0 ? "another run" : Convert.ToString(rows[0]["holder"], CultureInfo.InvariantCulture) ?? "another run";
                var stale = rows.Count == 0 || (DateTime.TryParse(Convert.ToString(rows[0]["since"], CultureInfo.InvariantCulture), CultureInfo.InvariantCulture,
                    DateTimeStyles.RoundtripKind, out var since) && now - since.ToUniversalTime() > StaleRemoteLock);
                if (!stale || attempt > 0)
                    return $"target `{target.Name}` is in use by {who} (the table `{RemoteLockTable}`); nothing was run or replaced: " +
                        $"wait for it to finish and run again (a lock older than {StaleRemoteLock.TotalHours:0} hours is taken over)";
                adapter.Execute(adapter.Dialect.DropTableIfExists(table));
            }
        }

        return null;
    }

    private sealed class RemoteLease(IWarehouseAdapter adapter, string table) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                adapter.Execute(adapter.Dialect.DropTableIfExists(table));
            }
            catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
            {
                // The connection is gone; the next run takes the lock over once it is stale.
            }
        }
    }

    public void Dispose()
    {
        if (_lock is null)
            return;
        try
        {
            File.Delete(_ownerFile!);
        }
        catch (IOException)
        {
            // The next holder overwrites it.
        }

        _lock.Dispose();
    }
}

/// <summary>Another run holds the warehouse's run lock.</summary>
public sealed class RunLockedException(string message) : Exception(message);
