namespace MetricCompiler.DemoData;

/// <summary>What <see cref="DemoDataGenerator.Seed"/> wrote.</summary>
/// <param name="Users">Rows in raw_users.</param>
/// <param name="Events">Rows in raw_events, duplicate deliveries included.</param>
/// <param name="Exposures">Rows in raw_exposures, repeat and multi-variant rows included.</param>
/// <param name="DuplicateEvents">Extra raw_events rows that repeat an earlier row exactly (rows minus distinct event_ids).</param>
/// <param name="MultiVariantUsers">(experiment, user) pairs with exposure rows in more than one variant, summed over experiments.</param>
/// <param name="Checksum">Lower-case SHA-256 hex over all rows in canonical order (see <see cref="DemoDataChecksum"/>).</param>
public sealed record DemoDataSummary(long Users, long Events, long Exposures, long DuplicateEvents, long MultiVariantUsers, string Checksum);
