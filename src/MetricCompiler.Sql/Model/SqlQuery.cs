namespace MetricCompiler.Sql.Model;

/// <summary>A relation a query reads: a warehouse table named in a source, or another node of the plan.</summary>
public abstract record RelationRef;

/// <summary>A raw warehouse table (optionally schema-qualified) declared by a source.</summary>
public sealed record SourceTableRef(string Table) : RelationRef;

/// <summary>The table another plan node builds; the renderer resolves it to that node's relation name.</summary>
public sealed record NodeRef(string Node) : RelationRef;

/// <summary>A name defined by a <c>with</c> clause of the same query.</summary>
public sealed record CteRef(string Name) : RelationRef;

public abstract record FromItem;

public sealed record TableFrom(RelationRef Relation, string? Alias = null) : FromItem;

public enum JoinKind
{
    Inner,
    Left,
    /// <summary>Every row with every row; <see cref="JoinFrom.On"/> is ignored.</summary>
    Cross,
}

public sealed record JoinFrom(FromItem Left, JoinKind Kind, FromItem Right, SqlExpr? On) : FromItem;

public sealed record SelectItem(SqlExpr Expression, string? Alias = null, string? Comment = null);

public sealed record CommonTableExpression(string Name, QueryExpr Query, string? Comment = null);

public abstract record QueryExpr
{
    public IReadOnlyList<CommonTableExpression> With { get; init; } = [];
}

public sealed record SelectQuery(
    IReadOnlyList<SelectItem> Items,
    FromItem From,
    SqlExpr? Where = null,
    IReadOnlyList<SqlExpr>? GroupBy = null,
    IReadOnlyList<SortKey>? OrderBy = null,
    int? Limit = null) : QueryExpr
{
    /// <summary><c>select distinct</c>.</summary>
    public bool Distinct { get; init; }
}

public sealed record UnionAllQuery(IReadOnlyList<SelectQuery> Parts, IReadOnlyList<string?>? PartComments = null) : QueryExpr;

/// <summary>
/// SQL written by a user (a SQL model or a SQL test): their text as written, with the relations their <c>ref</c> and
/// <c>source</c> calls named, which the renderer resolves like any other (to build tables while a run builds them).
/// </summary>
public sealed record TemplateQuery(IReadOnlyList<TemplatePart> Parts) : QueryExpr;

public abstract record TemplatePart;

public sealed record TemplateText(string Text) : TemplatePart;

public sealed record TemplateRelation(RelationRef Relation) : TemplatePart;
