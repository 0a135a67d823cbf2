using System.Runtime.Versioning;

// The SPE relies on Linux facilities (file modes, namespaces for sandboxes); it runs nowhere else.
[assembly: SupportedOSPlatform("linux")]

// Razor instantiates the portal's page models; the analyzer cannot see that (a known false positive of CA1812 for Razor Pages).
[assembly: System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Scope = "namespaceanddescendants",
    Target = "~N:OpenSpe.Server.Portal.Pages", Justification = "Page models are created by Razor Pages.")]
