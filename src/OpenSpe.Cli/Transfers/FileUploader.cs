using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using OpenSpe.Cli.Client;
using OpenSpe.Crypt4gh;
using OpenSpe.IO;

namespace OpenSpe.Cli.Transfers;

/// <summary>One FILE argument of <c>spe upload</c>, checked.</summary>
/// <param name="Source">Full path.</param>
/// <param name="Filename">The name declared to the server: the plaintext's name (a pre-encrypted file's without <c>.c4gh</c>).</param>
/// <param name="Mode">Encrypt here, or send as it is.</param>
/// <param name="DeclaredPlaintextSha256">For pre-encrypted files: the plaintext SHA-256 the user gave.</param>
internal sealed record UploadItem(string Source, string Filename, UploadMode Mode, string? DeclaredPlaintextSha256)
{
    public string DisplayName => Path.GetFileName(Source);
}

/// <summary>What one file's upload produced.</summary>
internal sealed record UploadResult(
    string File,
    string Filename,
    string Dataset,
    string? Id,
    long Size,
    long? PlaintextSize,
    string? Sha256,
    string PlaintextSha256,
    bool Encrypted,
    bool Resumed,
    long BytesSent,
    double Seconds);

/// <summary>Settings shared by every file of one <c>spe upload</c>.</summary>
internal sealed record UploadContext(
    string Server,
    string Project,
    string Dataset,
    Uri Collection,
    Crypt4ghPublicKey Key,
    TusCapabilities Capabilities,
    int ChunkSize,
    string CacheDirectory,
    bool Checksum = false);

/// <summary>The server refused the file for good (verification, policy, size): the next file may still go.</summary>
internal sealed class UploadRefusedException : SpeClientException
{
    public UploadRefusedException()
    {
    }

    public UploadRefusedException(string message)
        : base(message)
    {
    }

    public UploadRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Uploads one file with tus: prepares it (encrypts to a staged <c>.c4gh</c>, or hashes a pre-encrypted one), creates the
/// upload (with the first chunk in the POST when the server offers creation-with-upload), sends chunks with
/// <c>Upload-Checksum: sha256</c> when asked to (<c>--checksum</c>), and on a dropped connection, a 409 or a re-run after a killed process asks the server for
/// its offset (HEAD) and continues from there. The state that makes a re-run resume is in <see cref="UploadStateStore"/>.
/// </summary>
internal sealed class FileUploader
{
    private const int MaxConflicts = 4;
    private const int MaxChecksumFailures = 3;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TusClient _tus;
    private readonly SpeApiClient _api;
    private readonly UploadStateStore _states;
    private readonly UploadContext _context;
    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly TimeProvider _time;
    private readonly Lock _stateGate = new();

    public FileUploader(TusClient tus, SpeApiClient api, UploadStateStore states, UploadContext context, TextWriter error, bool terminal, TimeProvider time)
    {
        _tus = tus;
        _api = api;
        _states = states;
        _context = context;
        _error = error;
        _terminal = terminal;
        _time = time;
    }

    public async Task<UploadResult> UploadAsync(UploadItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var key = UploadStateStore.KeyOf(_context.Server, _context.Project, _context.Dataset, item.Source);
        using var _ = _states.Lock(key);
        var source = new FileInfo(item.Source);
        var state = _states.Load(key);
        if (state is not null && !Reusable(state, source, item))
        {
            await DiscardAsync(key, state, cancellationToken);
            state = null;
        }

        if (state is null && item.Mode == UploadMode.Encrypt && _context.Capabilities.Supports(TusProtocol.Concatenation))
        {
            return await UploadWhileEncryptingAsync(item, source, key, cancellationToken);
        }

        if (state is null)
        {
            state = await PrepareAsync(item, source, key, cancellationToken);
            _states.Save(key, state);
        }

        if (_context.Capabilities.MaxSize is { } max && state.Length > max)
        {
            throw new UploadRefusedException($"it is {TransferProgress.Bytes(state.Length)} encrypted; the server accepts at most {TransferProgress.Bytes(max)} per file");
        }

        var started = _time.GetTimestamp();
        using var handle = File.OpenHandle(state.Staged ?? state.Source, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        if (RandomAccess.GetLength(handle) != state.Length)
        {
            _states.Delete(key);
            throw new SpeClientException($"{state.Staged ?? state.Source} changed size since the upload began; run the command again to start over");
        }

        var (id, sent, wasResumed, location) = await SendAsync(key, state, handle, item, null, cancellationToken);
        if (state.Partial)
        {
            id = await CreateFinalAsync(key, state with { Location = location.ToString() }, cancellationToken);
        }

        return await CompletedAsync(item, key, state, id, sent, wasResumed, started, cancellationToken);
    }

    /// <summary>After success: forgets the upload locally and reports it, with the server's record of the file.</summary>
    private async Task<UploadResult> CompletedAsync(UploadItem item, string key, UploadState state, string? id, long sent, bool resumed, long started, CancellationToken cancellationToken)
    {
        Forget(key, state);
        // The server's record of the file: its SHA-256 of the ciphertext and the plaintext size it found (for the report only).
        var listed = await FindFileAsync(state, id, cancellationToken);
        return new UploadResult(item.Source, state.Filename, _context.Dataset, id ?? listed?.Id, state.Length, state.PlaintextSize ?? listed?.PlaintextSize, listed?.Sha256,
            state.PlaintextSha256, state.Mode == UploadMode.Encrypt, resumed, sent, _time.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>A saved state still describes this file: same size and modification time, same key, staged copy intact.</summary>
    private bool Reusable(UploadState state, FileInfo source, UploadItem item) =>
        state.Server == _context.Server && state.Project == _context.Project && state.Dataset == _context.Dataset && state.Source == item.Source
        && state.Mode == item.Mode && state.Filename == item.Filename
        && source.Exists && state.SourceSize == source.Length && state.SourceModified == new DateTimeOffset(source.LastWriteTimeUtc)
        && (state.Mode == UploadMode.Encrypt
            ? state.KeyFingerprint == _context.Key.Fingerprint && state.Staged is not null && new FileInfo(state.Staged) is { Exists: true } staged && staged.Length == state.Length
                // Note: a partial upload whose copy was still being encrypted when the run ended cannot continue: the rest of
                // the copy would be encrypted with another data key than the part the server holds.
                && (!state.Partial || state.PlaintextSha256.Length == 64)
            : state.PlaintextSha256 == item.DeclaredPlaintextSha256 && state.Length == source.Length);

    /// <summary>Forgets a state that no longer fits: terminates its upload on the server (best effort) and removes the staged copy.</summary>
    private async Task DiscardAsync(string key, UploadState state, CancellationToken cancellationToken)
    {
        if (state.Location is { } location)
        {
            try
            {
                await _tus.DeleteAsync(new Uri(location), cancellationToken);
            }
            catch (SpeClientException)
            {
                // It expires on its own.
            }
        }

        Forget(key, state);
    }

    /// <summary>
    /// Encrypts into the staged copy and uploads it at the same time (the server offers concatenation): the bytes go in a
    /// partial upload as soon as they are in the copy, and a final upload declares the plaintext SHA-256 once both are done.
    /// The hash no longer has to be known before the first byte is sent, so hashing, encrypting and sending overlap.
    /// </summary>
    private async Task<UploadResult> UploadWhileEncryptingAsync(UploadItem item, FileInfo source, string key, CancellationToken cancellationToken)
    {
        var length = Crypt4ghStaging.CiphertextLength(source.Length);
        if (_context.Capabilities.MaxSize is { } max && length > max)
        {
            throw new UploadRefusedException($"it would be {TransferProgress.Bytes(length)} encrypted; the server accepts at most {TransferProgress.Bytes(max)} per file");
        }

        // Note: the partial upload is created before a byte is encrypted, because its creation is where the server judges the
        // dataset, the caller and the file type: a refusal then costs neither the encryption nor a copy in the cache.
        var staged = TransferPaths.StagedFile(_context.CacheDirectory, key);
        var state = NewState(item, source.Length, new DateTimeOffset(source.LastWriteTimeUtc), _context.Key.Fingerprint, staged, length, "", source.Length) with { Partial = true };
        var created = await CreateEmptyAsync(state, cancellationToken);
        state = state with { Location = created.Location.ToString(), Expires = created.Expires };
        Crypt4ghStaging.CreateEmpty(staged);
        _states.Save(key, state);
        var started = _time.GetTimestamp();
        using var watermark = new StagingWatermark();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watermark.Failed);
        var encrypting = Task.Run(
            async () =>
            {
                var copy = await Crypt4ghStaging.EncryptAsync(item.Source, staged, _context.Key, static _ => { }, stop.Token, watermark);
                if (copy.Length == length)
                {
                    // Note: recorded as soon as the copy is whole, so that from here on a re-run resumes instead of starting over.
                    Update(key, s => s with { PlaintextSha256 = copy.PlaintextSha256, PlaintextSize = copy.PlaintextLength, UpdatedAt = _time.GetUtcNow() });
                }

                return copy;
            }, stop.Token);
        (string? Id, long Sent, bool Resumed, Uri Location) sent;
        try
        {
            using var handle = File.OpenHandle(staged, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
            sent = await SendAsync(key, state, handle, item, watermark, stop.Token, createdEmpty: true);
        }
        catch (Exception ex) when (watermark.Failure is not null && ex is not UploadRefusedException)
        {
            // The upload stopped because the encryption failed: that is the error to report.
            await encrypting;
            throw;
        }
        catch
        {
            await stop.CancelAsync();
            await encrypting.ContinueWith(static _ => { }, TaskScheduler.Default);
            throw;
        }

        var encrypted = await encrypting;
        if (encrypted.Length != length)
        {
            throw new SpeClientException($"the encrypted copy is {encrypted.Length} bytes, not the {length} announced; run the command again to start over");
        }

        state = Update(key, s => s with { Location = sent.Location.ToString(), PlaintextSha256 = encrypted.PlaintextSha256, PlaintextSize = encrypted.PlaintextLength });
        var id = await CreateFinalAsync(key, state, cancellationToken);
        return await CompletedAsync(item, key, state, id, sent.Sent, sent.Resumed, started, cancellationToken);
    }

    /// <summary>Creates the upload of <paramref name="state"/> with nothing in it yet; a refusal ends this file before anything is kept or sent.</summary>
    private async Task<TusCreated> CreateEmptyAsync(UploadState state, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(state.Source);
        _tus.Notice = text => _error.WriteLine($"{name}: {text}");
        try
        {
            return await _tus.CreateAsync(_context.Collection, state.Length, Metadata(state), TusBody.Empty, state.Partial, cancellationToken);
        }
        catch (ApiProblemException ex) when (IsRefusal(ex) || ex.Status == HttpStatusCode.Conflict)
        {
            // 409 at creation: the dataset already holds a file of this name.
            throw new UploadRefusedException(ex.Message, ex);
        }
        catch (Exception ex) when (ClientRetry.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new SpeClientException($"{Describe(ex)}; gave up retrying to create the upload. Run the same command again", ex);
        }
        finally
        {
            _tus.Notice = null;
        }
    }

    /// <summary>
    /// The final upload of a finished partial one: the server verifies the file and names it. Network failures are retried; when
    /// the partial upload is gone, the answer to an earlier attempt may have been lost, so the files list is asked first.
    /// </summary>
    private async Task<string?> CreateFinalAsync(string key, UploadState state, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(state.Source);
        _tus.Notice = text => _error.WriteLine($"{name}: {text}");
        try
        {
            var created = await _tus.CreateFinalAsync(_context.Collection, [new Uri(state.Location!)], Metadata(state with { Partial = false }), cancellationToken);
            return created.FileId;
        }
        catch (ApiProblemException ex) when (ex.Status == HttpStatusCode.UnprocessableEntity)
        {
            Forget(key, state);
            throw new UploadRefusedException($"the server refused the file: {ex.Message}", ex);
        }
        catch (ApiProblemException ex) when (ex.Status == HttpStatusCode.BadRequest)
        {
            // A retried final upload finds its partial upload consumed when the first attempt's answer was lost.
            if (await FindFileAsync(state, null, cancellationToken) is { } done)
            {
                return done.Id;
            }

            await DiscardAsync(key, state, cancellationToken);
            throw new SpeClientException($"the server could not complete the upload ({ProblemText.Clause(ex.Message)}); run the command again to start over", ex);
        }
        catch (ApiProblemException ex) when (ex.Status is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.Forbidden or HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            throw new UploadRefusedException(ex.Message, ex);
        }
        catch (Exception ex) when (ClientRetry.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new SpeClientException($"{Describe(ex)}; gave up retrying to complete the upload. Run the same command again to finish it", ex);
        }
        finally
        {
            _tus.Notice = null;
        }
    }

    /// <summary>
    /// Changes the saved state and returns it. While a copy is encrypted during the upload, its hash and the upload's URL are
    /// recorded from two threads, so each change applies to what is on disk, under a lock.
    /// </summary>
    private UploadState Update(string key, Func<UploadState, UploadState> change)
    {
        lock (_stateGate)
        {
            var next = change(_states.Load(key) ?? throw new SpeClientException("the upload's saved state vanished; run the command again"));
            _states.Save(key, next);
            return next;
        }
    }

    /// <summary>Forgets an upload that cannot go on: its state and staged copy.</summary>
    private void Forget(string key, UploadState state)
    {
        _states.Delete(key);
        if (state.Staged is not null)
        {
            File.Delete(state.Staged);
        }
    }

    private async Task<UploadState> PrepareAsync(UploadItem item, FileInfo source, string key, CancellationToken cancellationToken)
    {
        var modified = new DateTimeOffset(source.LastWriteTimeUtc);
        if (item.Mode == UploadMode.PreEncrypted)
        {
            return NewState(item, source.Length, modified, null, null, source.Length, item.DeclaredPlaintextSha256!, null);
        }

        var estimated = Crypt4ghStaging.CiphertextLength(source.Length);
        if (_context.Capabilities.MaxSize is { } max && estimated > max)
        {
            throw new UploadRefusedException($"it would be {TransferProgress.Bytes(estimated)} encrypted; the server accepts at most {TransferProgress.Bytes(max)} per file");
        }

        var staged = TransferPaths.StagedFile(_context.CacheDirectory, key);
        var encrypting = new TransferProgress(_error, _terminal, $"{item.DisplayName}: encrypting", source.Length);
        var result = await RunPhaseAsync(encrypting, p => Crypt4ghStaging.EncryptAsync(item.Source, staged, _context.Key, p, cancellationToken));
        return NewState(item, source.Length, modified, _context.Key.Fingerprint, staged, result.Length, result.PlaintextSha256, result.PlaintextLength);
    }

    private UploadState NewState(UploadItem item, long size, DateTimeOffset modified, string? fingerprint, string? staged, long length, string plaintextSha256, long? plaintextSize) => new()
    {
        Server = _context.Server,
        Project = _context.Project,
        Dataset = _context.Dataset,
        Source = item.Source,
        SourceSize = size,
        SourceModified = modified,
        Mode = item.Mode,
        KeyFingerprint = fingerprint,
        Staged = staged,
        Filename = item.Filename,
        Length = length,
        PlaintextSha256 = plaintextSha256,
        PlaintextSize = plaintextSize,
        UpdatedAt = _time.GetUtcNow(),
    };

    private static async Task<T> RunPhaseAsync<T>(TransferProgress progress, Func<Action<long>, Task<T>> phase)
    {
        try
        {
            var result = await phase(progress.Report);
            progress.Finish();
            return result;
        }
        catch
        {
            progress.Abandon();
            throw;
        }
    }

    /// <summary>
    /// The tus exchange; returns the server's file id (when it says), the bytes sent in this run, whether it resumed a
    /// server-side upload, and the upload's URL. A <see cref="UploadState.Partial"/> upload ends when its last byte is
    /// acknowledged (the caller then creates the final upload); with a <paramref name="watermark"/> the staged copy is still
    /// being written, and each byte is sent once it is in the file. Transient failures are retried by <see cref="TusClient"/>;
    /// what reaches this loop is the server's answer: a wrong offset (409) or a lost upload (404) is recovered from, a refusal
    /// ends the file. With <paramref name="createdEmpty"/> the state's upload was created just now with nothing in it, so no HEAD
    /// is needed to know its offset.
    /// </summary>
    private async Task<(string? Id, long Sent, bool Resumed, Uri Location)> SendAsync(string key, UploadState state, SafeFileHandle handle, UploadItem item,
        StagingWatermark? watermark, CancellationToken cancellationToken, bool createdEmpty = false)
    {
        var location = state.Location is null ? null : new Uri(state.Location);
        long offset = 0;
        long sent = 0;
        var resumed = false;
        var recreated = false;
        var needsSync = location is not null && !createdEmpty;
        TusUploadStatus? synced = null;
        var conflicts = 0;
        var checksumFailures = 0;
        var reader = new ChunkReader(handle, state.Staged is { } staged ? DirectIo.TryOpen(staged, write: false) : null, state.Length, _context.ChunkSize,
            _context.Checksum && _context.Capabilities.ChecksumAlgorithm is not null, watermark);
        TransferProgress? progress = null;
        _tus.Notice = text => Note(progress, $"{item.DisplayName}: {text}");
        try
        {
            while (true)
            {
                try
                {
                    if (needsSync && location is not null)
                    {
                        var status = synced ?? await HeadOrNullAsync(location, cancellationToken);
                        needsSync = false;
                        synced = null;
                        if (status is null || (status.Length is { } length && length != state.Length))
                        {
                            // Gone: finished (its last answer was lost), expired or terminated; or not ours any more.
                            if (state.PlaintextSha256.Length > 0 && await FindFileAsync(state, null, cancellationToken) is { } done)
                            {
                                progress?.Finish();
                                return (done.Id, sent, resumed, location);
                            }

                            if (status is not null)
                            {
                                await _tus.DeleteAsync(location, cancellationToken);
                            }

                            if (recreated)
                            {
                                throw new SpeClientException("the server lost the upload twice; run the command again");
                            }

                            recreated = true;
                            location = null;
                            offset = 0;
                            progress?.Report(0);
                            state = Update(key, s => s with { Location = null, Expires = null, UpdatedAt = _time.GetUtcNow() });
                            Note(progress, $"{item.DisplayName}: the server no longer has the partial upload; starting it again");
                        }
                        else
                        {
                            if (progress is null && status.Offset > 0)
                            {
                                resumed = true;
                                _error.WriteLine($"{item.DisplayName}: resuming at {TransferProgress.Bytes(status.Offset)} of {TransferProgress.Bytes(state.Length)} (the server's offset)");
                            }

                            offset = status.Offset;
                            if (offset == state.Length && state.Partial)
                            {
                                // All there; the final upload (the caller's) completes it.
                                progress?.Finish();
                                return (null, sent, resumed, location);
                            }

                            if (offset == state.Length)
                            {
                                // Everything arrived but the answer to the last PATCH was lost: the server verifies and then lists the file.
                                if (await WaitForFileAsync(state, cancellationToken) is { } done)
                                {
                                    progress?.Finish();
                                    return (done, sent, resumed, location);
                                }

                                throw new SpeClientException($"the server holds the whole upload but lists no file for it; check 'spe dataset list --project {_context.Project}' before uploading it again");
                            }
                        }
                    }

                    progress ??= new TransferProgress(_error, _terminal, $"{item.DisplayName}: uploading", state.Length, offset);
                    if (location is null)
                    {
                        var chunk = state.Length == 0 || !_context.Capabilities.Supports(TusProtocol.CreationWithUpload) ? TusBody.Empty : await reader.ReadAsync(0, cancellationToken);
                        var created = await _tus.CreateAsync(_context.Collection, state.Length, Metadata(state), chunk, state.Partial, cancellationToken);
                        location = created.Location;
                        state = Update(key, s => s with { Location = location.ToString(), Expires = created.Expires, UpdatedAt = _time.GetUtcNow() });
                        offset = created.Offset;
                        sent += created.Offset;
                        progress.Report(offset);
                        if (offset == state.Length)
                        {
                            // The whole file fitted in the POST; the server has verified it already (unless it is a partial upload).
                            progress.Finish();
                            return (created.FileId, sent, resumed, location);
                        }

                        continue;
                    }

                    var next = await reader.ReadAsync(offset, cancellationToken);
                    var before = offset;
                    var answer = await _tus.PatchAsync(location, offset, next, cancellationToken);
                    if (answer.Resynced)
                    {
                        // The PATCH failed on the way and the server holds more (or less) than before it: continue from its offset.
                        synced = answer;
                        needsSync = true;
                        continue;
                    }

                    if (answer.Offset <= before || answer.Offset > state.Length)
                    {
                        throw new SpeClientException($"the server answered PATCH at offset {before} with Upload-Offset {answer.Offset}; expected up to {before + next.Length}");
                    }

                    offset = answer.Offset;
                    sent += offset - before;
                    conflicts = checksumFailures = 0;
                    progress.Report(offset);
                    if (offset == state.Length)
                    {
                        progress.Finish();
                        return (answer.FileId, sent, resumed, location);
                    }
                }
                catch (ApiProblemException ex) when (ex.Status == HttpStatusCode.Conflict && location is not null)
                {
                    // Our offset is not the server's (an earlier answer was lost): ask and continue from there.
                    if (++conflicts > MaxConflicts)
                    {
                        throw new SpeClientException($"the server keeps refusing the offset: {ex.Message}", ex);
                    }

                    needsSync = true;
                }
                catch (ApiProblemException ex) when ((int)ex.Status == 460)
                {
                    if (++checksumFailures > MaxChecksumFailures)
                    {
                        throw new SpeClientException($"the server rejected the checksum of the chunk at byte {offset} {MaxChecksumFailures + 1} times (is the file being changed?): {ex.Message}", ex);
                    }

                    // The server kept nothing of the chunk: read it again from disk and resend it.
                    Note(progress, $"{item.DisplayName}: the server received a damaged chunk at byte {offset}; sending it again");
                }
                catch (ApiProblemException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone && location is not null)
                {
                    // Expired or terminated mid-way (or finished, its answer lost): HEAD tells which, and the upload starts again if need be.
                    needsSync = true;
                }
                catch (ApiProblemException ex) when (ex.Status == HttpStatusCode.UnprocessableEntity)
                {
                    // Verification at completion failed; the server has discarded the upload, and this staged copy cannot pass either.
                    progress?.Abandon();
                    Forget(key, state);
                    throw new UploadRefusedException($"the server refused the file: {ex.Message}", ex);
                }
                catch (ApiProblemException ex) when (IsRefusal(ex) || (ex.Status == HttpStatusCode.Conflict && location is null))
                {
                    progress?.Abandon();
                    if (location is null)
                    {
                        // Refused at creation (a dataset or file type the permit does not allow, a size over the quota): nothing
                        // of it is on the server, and a re-run would be refused the same way, so the copy is not kept for one.
                        Forget(key, state);
                    }

                    var hint = ex.Status == HttpStatusCode.RequestEntityTooLarge && offset < state.Length ? " (try a smaller --chunk-size)" : "";
                    throw new UploadRefusedException($"{ex.Message}{hint}", ex);
                }
                catch (Exception ex) when (ClientRetry.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                {
                    throw new SpeClientException($"{Describe(ex)}; gave up retrying at byte {offset}. Run the same command again to resume", ex);
                }
            }
        }
        catch
        {
            progress?.Abandon();
            throw;
        }
        finally
        {
            _tus.Notice = null;
            await reader.DisposeAsync();
        }
    }

    private async Task<TusUploadStatus?> HeadOrNullAsync(Uri location, CancellationToken cancellationToken)
    {
        try
        {
            return await _tus.HeadAsync(location, cancellationToken);
        }
        catch (ApiProblemException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }
    }

    /// <summary>
    /// The dataset file the server made of this upload: the one with <paramref name="id"/>, or else the newest with this
    /// dataset, name, size and plaintext SHA-256 that was uploaded since the state was saved; null when not listed (or not listable).
    /// </summary>
    private async Task<ProjectFileView?> FindFileAsync(UploadState state, string? id, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _api.SendAsync(HttpMethod.Get, $"api/v1/projects/{Uri.EscapeDataString(_context.Project)}/files", null, cancellationToken);
            var files = await response.Content.ReadFromJsonAsync<List<ProjectFileView>>(Json, cancellationToken) ?? [];
            return id is not null ? files.FirstOrDefault(f => f.Id == id)
                : files.Where(f => f.Dataset == state.Dataset && f.Filename == state.Filename && f.Size == state.Length
                        && string.Equals(f.PlaintextSha256, state.PlaintextSha256, StringComparison.OrdinalIgnoreCase)
                        && f.UploadedAt >= state.UpdatedAt - TimeSpan.FromMinutes(5))
                    .OrderByDescending(f => f.UploadedAt).FirstOrDefault();
        }
        catch (Exception ex) when (ex is ApiProblemException or JsonException)
        {
            return null;
        }
    }

    private async Task<string?> WaitForFileAsync(UploadState state, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await FindFileAsync(state, null, cancellationToken) is { } file)
            {
                return file.Id;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
        }

        return null;
    }

    /// <summary>Upload-Metadata: a partial upload's names only its dataset and file name (the final upload declares the hash).</summary>
    private static List<KeyValuePair<string, string>> Metadata(UploadState state) => state.Partial
        ? [new("dataset", state.Dataset), new("filename", state.Filename)]
        : [new("dataset", state.Dataset), new("filename", state.Filename), new("plaintextSha256", state.PlaintextSha256)];

    private void Note(TransferProgress? progress, string text)
    {
        if (progress is not null)
        {
            progress.Note(text);
        }
        else
        {
            _error.WriteLine(text);
        }
    }

    /// <summary>The server will not take this file as asked (too large, not allowed, malformed); other files may still go.</summary>
    private static bool IsRefusal(ApiProblemException ex) => ex.Status is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.Forbidden
        or HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.PreconditionFailed;

    private static string Describe(Exception ex) => ex switch
    {
        ApiProblemException problem => ProblemText.Clause(problem.Message),
        SpeClientException client => ProblemText.Clause(client.Message),
        _ => "connection lost: " + ProblemText.Clause(ex.Message),
    };

    /// <summary>
    /// What <see cref="FileUploader"/> sends, read from the file (with O_DIRECT where the file and the offset allow it, see
    /// <see cref="DirectIo"/>: the encrypted copy was written that way and is not in the page cache). Without a checksum a
    /// chunk is streamed while it is sent, 1 MiB at a time with the next MiB read ahead, so memory stays at two MiB whatever
    /// the chunk size. With <c>--checksum</c> the chunk's SHA-256 goes in a header before the body, so the whole chunk is read
    /// (and the next one read and hashed ahead on another thread): memory is then twice the chunk size.
    /// </summary>
    private sealed class ChunkReader(SafeFileHandle handle, SafeFileHandle? direct, long length, int chunkSize, bool checksum, StagingWatermark? watermark) : IAsyncDisposable
    {
        private const int PieceSize = 1 << 20;

        private readonly Memory<byte>[] _buffers = checksum ? [Buffer(chunkSize, length), Buffer(chunkSize, length)] : [];
        private int _current;
        private Task<TusBody>? _ahead;
        private long _aheadOffset = -1;

        public async Task<TusBody> ReadAsync(long offset, CancellationToken cancellationToken)
        {
            if (!checksum)
            {
                var size = ChunkLength(offset);
                return new TusBody(size, () => new FileRangeContent(this, offset, size), null);
            }

            TusBody chunk;
            if (_ahead is not null && _aheadOffset == offset)
            {
                chunk = await _ahead;
                _ahead = null;
                _current ^= 1;
            }
            else
            {
                await SettleAsync();
                _current ^= 1;
                chunk = await LoadHashedAsync(offset, _buffers[_current], cancellationToken);
            }

            var next = offset + chunk.Length;
            if (next < length)
            {
                var buffer = _buffers[_current ^ 1];
                _aheadOffset = next;
                _ahead = Task.Run(() => LoadHashedAsync(next, buffer, cancellationToken), cancellationToken);
            }

            return chunk;
        }

        public async ValueTask DisposeAsync()
        {
            await SettleAsync();
            direct?.Dispose();
        }

        /// <summary>Chunks end on multiples of the chunk size: after a resume at an odd offset, one short chunk realigns the rest (for O_DIRECT).</summary>
        private long ChunkLength(long offset) => Math.Min(chunkSize - (offset % chunkSize), length - offset);

        private static Memory<byte> Buffer(int chunkSize, long length)
        {
            var size = (int)Math.Min(chunkSize, Math.Max(1, length));
            return DirectIo.AlignedBuffer((size + DirectIo.Alignment - 1) / DirectIo.Alignment * DirectIo.Alignment)[..size];
        }

        private async Task SettleAsync()
        {
            if (_ahead is { } ahead)
            {
                _ahead = null;
                _aheadOffset = -1;
                try
                {
                    await ahead;
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or SpeClientException)
                {
                    // A read ahead nobody needs any more.
                }
            }
        }

        private async Task<TusBody> LoadHashedAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var data = await LoadAsync(offset, buffer[..(int)ChunkLength(offset)], cancellationToken);
            return TusBody.FromMemory(data, "sha256 " + Convert.ToBase64String(SHA256.HashData(data.Span)));
        }

        /// <summary>Fills <paramref name="buffer"/> (or up to the end of the file) from <paramref name="offset"/>; the buffer must be aligned with room to round up to a block.</summary>
        private async Task<ReadOnlyMemory<byte>> LoadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var size = (int)Math.Min(buffer.Length, length - offset);
            if (watermark is not null)
            {
                await watermark.WaitForAsync(offset + size, cancellationToken);
            }

            var filled = 0;
            if (direct is not null && offset % DirectIo.Alignment == 0)
            {
                // The request is rounded up to whole blocks (the buffer has room); the end of the file comes back short.
                var request = (size + DirectIo.Alignment - 1) / DirectIo.Alignment * DirectIo.Alignment;
                MemoryMarshal.TryGetArray<byte>(buffer, out var segment);
                var whole = segment.Array.AsMemory(segment.Offset, request);
                // Note: in 1 MiB reads, not one of the chunk's size: a long read holds the disk queue, and a server on the same disk
                // then waits that long for each fsync (its audit commits took 9 ms instead of 0.5 in the upload bench).
                var got = 0;
                while (got < request)
                {
                    var n = await RandomAccess.ReadAsync(direct, whole.Slice(got, Math.Min(PieceSize, request - got)), offset + got, cancellationToken);
                    got += n;
                    if (n == 0 || got % DirectIo.Alignment != 0)
                    {
                        break;
                    }
                }

                filled = Math.Min(size, got);
            }

            while (filled < size)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer[filled..size], offset + filled, cancellationToken);
                if (n == 0)
                {
                    throw new SpeClientException($"the file to send ended at byte {offset + filled}, before its recorded length {length}; run the command again to start over");
                }

                filled += n;
            }

            return buffer[..size];
        }

        /// <summary>
        /// One chunk of the file as a request body, read 1 MiB at a time while it is written (the next MiB read during the
        /// write). Its two blocks belong to this content alone, so a send that is abandoned never shares them with a retry.
        /// </summary>
        private sealed class FileRangeContent(ChunkReader reader, long offset, long size) : HttpContent
        {
            protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
                SerializeToStreamAsync(stream, context, CancellationToken.None);

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
            {
                Memory<byte>[] blocks = [DirectIo.AlignedBuffer(PieceSize), DirectIo.AlignedBuffer(PieceSize)];
                var end = offset + size;
                var position = offset;
                var index = 0;
                var pending = Piece(position, blocks[index]);
                try
                {
                    while (pending is not null)
                    {
                        var data = await pending;
                        pending = null;
                        position += data.Length;
                        index ^= 1;
                        pending = position < end ? Piece(position, blocks[index]) : null;
                        await stream.WriteAsync(data, cancellationToken);
                    }
                }
                finally
                {
                    // A send that failed leaves a read ahead running: it ends before the file handle may be closed, its error unseen.
                    if (pending is not null)
                    {
                        await pending.ContinueWith(static _ => { }, TaskScheduler.Default);
                    }
                }

                Task<ReadOnlyMemory<byte>> Piece(long at, Memory<byte> block)
                {
                    // Pieces end on 1 MiB boundaries of the file, so after an unaligned start (a resume) the rest are aligned.
                    var piece = (int)Math.Min(PieceSize - (at % PieceSize), end - at);
                    return reader.LoadAsync(at, block[..piece], cancellationToken);
                }
            }

            protected override bool TryComputeLength(out long length)
            {
                length = size;
                return true;
            }
        }
    }
}
