using MetricCompiler.Assignment;

namespace MetricCompiler.Compiler.Tests.Assignment;

/// <summary>
/// The hashing, bucket ranges, variant choice and namespaces against the published cross-language cases of GrowthBook's
/// SDKs (packages/sdk-js/test/cases.json, spec 0.5.4, MIT): every SDK passes these, so a unit an SDK assigned is assigned
/// the same way here.
/// </summary>
public sealed class UnitHashTests
{
    [Theory]
    [InlineData("", "a", 1, 0.22)]
    [InlineData("", "b", 1, 0.077)]
    [InlineData("b", "a", 1, 0.946)]
    [InlineData("ef", "d", 1, 0.652)]
    [InlineData("asdf", "8952klfjas09ujk", 1, 0.549)]
    [InlineData("", "123", 1, 0.011)]
    [InlineData("", "___)((*\":&", 1, 0.563)]
    [InlineData("seed", "a", 2, 0.0505)]
    [InlineData("seed", "b", 2, 0.2696)]
    [InlineData("foo", "ab", 2, 0.2575)]
    [InlineData("foo", "def", 2, 0.2019)]
    [InlineData("89123klj", "8952klfjas09ujkasdf", 2, 0.124)]
    [InlineData("90850943850283058242805", "123", 2, 0.7516)]
    [InlineData("()**(%$##$%#$#", "___)((*\":&", 2, 0.0128)]
    public void Hash_matches_the_sdk_cases(string seed, string value, int version, double expected) =>
        Assert.Equal(expected, UnitHash.Bucket(seed, value, version));

    [Fact]
    public void An_unknown_hash_version_has_no_bucket() => Assert.Null(UnitHash.Bucket("abc", "def", 99));

    [Fact]
    public void Fnv1a_of_known_strings() // the FNV-1a 32-bit reference values (offset basis for the empty string)
    {
        Assert.Equal(0x811C9DC5u, UnitHash.Fnv1a32(""));
        Assert.Equal(0xE40C292Cu, UnitHash.Fnv1a32("a"));
        Assert.Equal(0xBF9CF968u, UnitHash.Fnv1a32("foobar"));
    }

    public static TheoryData<string, int, double, double[]?, double[]> BucketRangeCases => new()
    {
        { "normal 50/50", 2, 1, null, [0, 0.5, 0.5, 1] },
        { "reduced coverage", 2, 0.5, null, [0, 0.25, 0.5, 0.75] },
        { "zero coverage", 2, 0, null, [0, 0, 0.5, 0.5] },
        { "4 variations", 4, 1, null, [0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1] },
        { "uneven weights", 2, 1, [0.4, 0.6], [0, 0.4, 0.4, 1] },
        { "uneven weights, 3 variations", 3, 1, [0.2, 0.3, 0.5], [0, 0.2, 0.2, 0.5, 0.5, 1] },
        { "uneven weights, reduced coverage, 3 variations", 3, 0.2, [0.2, 0.3, 0.5], [0, 0.04, 0.2, 0.26, 0.5, 0.6] },
        { "negative coverage", 2, -0.2, null, [0, 0, 0.5, 0.5] },
        { "coverage above 1", 2, 1.5, null, [0, 0.5, 0.5, 1] },
        { "weights sum below 1", 2, 1, [0.4, 0.1], [0, 0.5, 0.5, 1] },
        { "weights sum above 1", 2, 1, [0.7, 0.6], [0, 0.5, 0.5, 1] },
        { "weights.length not equal to num variations", 4, 1, [0.4, 0.4, 0.2], [0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1] },
        { "weights sum almost equals 1", 2, 1, [0.4, 0.5999], [0, 0.4, 0.4, 0.9999] },
    };

    [Theory]
    [MemberData(nameof(BucketRangeCases))]
    public void Bucket_ranges_match_the_sdk_cases(string name, int count, double coverage, double[]? weights, double[] expected)
    {
        var ranges = BucketRange.ForVariants(count, coverage, weights);
        var flat = ranges.SelectMany(r => new[] { r.Start, r.End }).ToArray();
        Assert.True(expected.Length == flat.Length, name);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], flat[i], 1e-9);
    }

    [Theory]
    [InlineData(0.2, new[] { 0, 0.5, 0.5, 1 }, 0)]
    [InlineData(0.4, new[] { 0, 0.5, 0.5, 1 }, 0)]
    [InlineData(0.6, new[] { 0, 0.5, 0.5, 1 }, 1)]
    [InlineData(0.8, new[] { 0, 0.5, 0.5, 1 }, 1)]
    [InlineData(0.0, new[] { 0, 0.5, 0.5, 1 }, 0)]
    [InlineData(0.5, new[] { 0, 0.5, 0.5, 1 }, 1)]
    [InlineData(0.2, new[] { 0, 0.25, 0.5, 0.75 }, 0)]
    [InlineData(0.4, new[] { 0, 0.25, 0.5, 0.75 }, -1)]
    [InlineData(0.6, new[] { 0, 0.25, 0.5, 0.75 }, 1)]
    [InlineData(0.8, new[] { 0, 0.25, 0.5, 0.75 }, -1)]
    [InlineData(0.25, new[] { 0, 0.25, 0.5, 0.75 }, -1)]
    [InlineData(0.5, new[] { 0, 0.25, 0.5, 0.75 }, 1)]
    [InlineData(0.5, new[] { 0, 0.5, 0.5, 0.5, 0.5, 1 }, 2)]
    public void Choose_variation_matches_the_sdk_cases(double bucket, double[] flatRanges, int expected)
    {
        var ranges = Enumerable.Range(0, flatRanges.Length / 2).Select(i => new BucketRange(flatRanges[2 * i], flatRanges[2 * i + 1])).ToList();
        Assert.Equal(expected, BucketRange.Choose(bucket, ranges));
    }

    [Theory]
    [InlineData("1", "namespace1", 0, 0.4, false)]
    [InlineData("1", "namespace1", 0.4, 1, true)]
    [InlineData("1", "namespace2", 0, 0.4, false)]
    [InlineData("1", "namespace2", 0.4, 1, true)]
    [InlineData("2", "namespace1", 0, 0.4, false)]
    [InlineData("2", "namespace1", 0.4, 1, true)]
    [InlineData("2", "namespace2", 0, 0.4, false)]
    [InlineData("2", "namespace2", 0.4, 1, true)]
    [InlineData("3", "namespace1", 0, 0.4, false)]
    [InlineData("3", "namespace1", 0.4, 1, true)]
    [InlineData("3", "namespace2", 0, 0.4, true)]
    [InlineData("3", "namespace2", 0.4, 1, false)]
    [InlineData("4", "namespace1", 0, 0.4, false)]
    [InlineData("4", "namespace1", 0.4, 1, true)]
    [InlineData("4", "namespace2", 0, 0.4, true)]
    [InlineData("4", "namespace2", 0.4, 1, false)]
    public void Namespaces_match_the_sdk_cases(string unit, string ns, double start, double end, bool expected) =>
        Assert.Equal(expected, new NamespaceRange(ns, start, end).Contains(unit));

    [Theory]
    [InlineData(2, new[] { 0.5, 0.5 })]
    [InlineData(1, new[] { 1.0 })]
    [InlineData(0, new double[0])]
    [InlineData(-1, new double[0])]
    [InlineData(4, new[] { 0.25, 0.25, 0.25, 0.25 })]
    public void Equal_weights_match_the_sdk_cases(int count, double[] expected) =>
        Assert.Equal(expected, BucketRange.EqualWeights(count));

    private static AssignmentRule Rule(string seed, int version, int variants, double[]? weights = null, double coverage = 1, NamespaceRange? ns = null) =>
        new(seed, version, Enumerable.Range(0, variants).Select(i => $"v{i}").ToList(), weights ?? BucketRange.EqualWeights(variants).ToArray(), coverage, ns,
            new Dictionary<string, string>());

    // The SDKs' end-to-end experiment cases: the seed defaults to the experiment key, hash version 1 unless given.
    [Theory]
    [InlineData("123", "feature", 1, 3, 1.0, 0.863, "v2")]
    [InlineData("456", "feature", 1, 3, 1.0, 0.178, "v0")]
    [InlineData("fds", "feature", 1, 3, 1.0, 0.514, "v1")]
    [InlineData("1", "foo", 2, 2, 0.99, null, "v1")]
    [InlineData("1", "foo", 2, 2, 1.0, null, "v1")]
    public void Assign_matches_the_sdk_experiment_cases(string unit, string seed, int version, int variants, double coverage, double? bucket, string variant)
    {
        var result = Assigner.Assign(Rule(seed, version, variants, coverage: coverage), unit);
        Assert.Equal(variant, result.Variant);
        Assert.Equal(AssignmentReason.Hashed, result.Reason);
        if (bucket is { } b)
            Assert.Equal(b, result.Bucket);
    }

    [Fact]
    public void Assign_uses_weights_coverage_namespace_and_overrides_like_the_sdk()
    {
        // "creates experiments properly": anonId 123, seed feature, v2, weights 0.1/0.9, coverage 0.99 -> bucket 0.5231, variation 1.
        var weighted = Assigner.Assign(Rule("feature", 2, 2, [0.1, 0.9], 0.99, new NamespaceRange("pricing", 0, 1)), "123");
        Assert.Equal((0.5231, "v1"), (weighted.Bucket!.Value, weighted.Variant!));

        // "skips experiment on coverage": id 123, four variations, coverage 0.01.
        Assert.Equal(AssignmentReason.OutsideCoverage, Assigner.Assign(Rule("feature", 1, 4, coverage: 0.01), "123").Reason);

        // "Experiment namespace - pass / fail": id 1, key my-test.
        Assert.Equal("v1", Assigner.Assign(Rule("my-test", 1, 2, ns: new NamespaceRange("namespace", 0.1, 1)), "1").Variant);
        Assert.Equal(AssignmentReason.OutsideNamespace, Assigner.Assign(Rule("my-test", 1, 2, ns: new NamespaceRange("namespace", 0, 0.1)), "1").Reason);

        var forced = Rule("feature", 1, 3) with { Overrides = new Dictionary<string, string> { ["123"] = "v0" } };
        Assert.Equal((AssignmentReason.Override, "v0"), (Assigner.Assign(forced, "123").Reason, Assigner.Assign(forced, "123").Variant!));
    }

    [Fact]
    public void Several_hash_attributes_hash_their_joined_values() =>
        Assert.Equal(Assigner.Assign(Rule("s", 2, 2), "acme|42").Variant, Assigner.Assign(Rule("s", 2, 2), Assigner.HashValue(["acme", "42"])).Variant);
}
