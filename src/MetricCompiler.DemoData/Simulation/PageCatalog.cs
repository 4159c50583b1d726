using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Simulation;

/// <summary>A page of the product and its typical (median) load time.</summary>
internal sealed record PageDefinition(string Path, double MedianLoadMs);

/// <summary>The pages users browse: where sessions land and where they go next.</summary>
internal static class PageCatalog
{
    public static readonly PageDefinition Home = new("/home", 720);
    public static readonly PageDefinition Search = new("/search", 860);
    public static readonly PageDefinition Product = new("/product", 800);
    public static readonly PageDefinition Cart = new("/cart", 650);
    public static readonly PageDefinition Pricing = new("/pricing", 600);
    public static readonly PageDefinition Account = new("/account", 780);
    public static readonly PageDefinition Help = new("/help", 560);

    public static readonly WeightedChoice<PageDefinition> LandingPage = new(
    [
        (Home, 0.50), (Product, 0.20), (Search, 0.15), (Pricing, 0.10), (Help, 0.05),
    ]);

    public static readonly WeightedChoice<PageDefinition> NextPage = new(
    [
        (Product, 0.35), (Search, 0.20), (Home, 0.15), (Cart, 0.12), (Pricing, 0.08), (Account, 0.06), (Help, 0.04),
    ]);
}
