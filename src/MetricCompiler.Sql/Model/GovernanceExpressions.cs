namespace MetricCompiler.Sql.Model;

/// <summary>
/// The lowercase hex SHA-256 of <see cref="Salt"/> followed by <see cref="Value"/> (both text, UTF-8): how staging
/// pseudonymises a <c>pii: true</c> column. The same salt and value give the same 64 characters on every engine, so
/// hashed ids still join; null stays null.
/// </summary>
public sealed record SaltedSha256Expr(SqlExpr Salt, SqlExpr Value) : SqlExpr;

/// <summary>The time of the statement as a UTC timestamp without zone (the type staging gives every timestamp).</summary>
public sealed record CurrentUtcTimestampExpr : SqlExpr;
