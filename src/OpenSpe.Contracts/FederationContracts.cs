using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>
/// A permit signed by a trusted HDAB, imported at a federation node (<c>POST /api/v1/permits/import</c>, <c>spe permit import</c>):
/// the node creates the local project for the datasets it holds.
/// </summary>
/// <param name="Document">The permit as its issuer signed it (compact JWS, <c>typ</c> <c>openspe-permit+jws</c>).</param>
public sealed record PermitImportRequest([property: Required, StringLength(262144, MinimumLength = 10)] string Document);
