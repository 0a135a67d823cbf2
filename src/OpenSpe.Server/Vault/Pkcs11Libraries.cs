using System.Reflection;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace OpenSpe.Server.Vault;

/// <summary>
/// PKCS#11 libraries loaded once per process and shared: C_Initialize may run only once per
/// library, so every store on the same library holds a lease and the last one out finalizes it.
/// </summary>
internal static class Pkcs11Libraries
{
    private static readonly Lock Sync = new();
    private static readonly Dictionary<string, Entry> Loaded = new(StringComparer.Ordinal);
    private static bool _resolverRegistered;

    /// <summary>The factories Pkcs11Interop builds every object with.</summary>
    public static Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>Loads (or shares) the library at <paramref name="path"/>.</summary>
    public static Lease Acquire(string path)
    {
        lock (Sync)
        {
            RegisterResolver();
            if (!Loaded.TryGetValue(path, out var entry))
            {
                entry = new Entry(Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded));
                Loaded[path] = entry;
            }

            entry.References++;
            return new Lease(path, entry.Library);
        }
    }

    private static void Release(string path)
    {
        lock (Sync)
        {
            if (Loaded.TryGetValue(path, out var entry) && --entry.References == 0)
            {
                Loaded.Remove(path);
                entry.Library.Dispose();
            }
        }
    }

    private static void RegisterResolver()
    {
        if (_resolverRegistered)
        {
            return;
        }

        _resolverRegistered = true;
        try
        {
            // Pkcs11Interop calls dlopen through "libdl", which glibc 2.34+ (Debian 12) ships only as libdl.so.2.
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, ResolveLibdl);
        }
        catch (InvalidOperationException)
        {
            // The host registered its own resolver for the assembly; it is responsible for libdl.
        }
    }

    private static IntPtr ResolveLibdl(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName is "libdl" or "libdl.so" && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero;

    private sealed class Entry(IPkcs11Library library)
    {
        public IPkcs11Library Library { get; } = library;

        public int References { get; set; }
    }

    /// <summary>A share of a loaded library; dispose it once.</summary>
    internal sealed class Lease(string path, IPkcs11Library library) : IDisposable
    {
        private int _disposed;

        /// <summary>The library.</summary>
        public IPkcs11Library Library { get; } = library;

        /// <inheritdoc/>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Release(path);
            }
        }
    }
}
