using System.Runtime.CompilerServices;

// The flag provider's internals (store, cache, stream client, backoff) are tested directly.
[assembly: InternalsVisibleTo("ServiceDefaults.Tests")]
