using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access.Handlers;

/// <summary>For a transfer: the permit's file-type policy must allow the file's type in that direction (TIR-5).</summary>
public sealed class FileTypeHandler : IAccessHandler
{
    /// <inheritdoc />
    public async ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.Transfer is not { } transfer)
        {
            return null;
        }

        var document = await context.DocumentAsync(cancellationToken);
        if (PermitFileTypePolicy.Allows(document, transfer.Direction, transfer.FileType))
        {
            return null;
        }

        var verb = transfer.Direction switch
        {
            TransferDirection.Import => "importing",
            TransferDirection.Export => "exporting",
            _ => "uploading",
        };
        return AccessRefusal.Forbidden("file-type-not-allowed", $"The permit does not allow {verb} '.{transfer.FileType}' files.");
    }
}
