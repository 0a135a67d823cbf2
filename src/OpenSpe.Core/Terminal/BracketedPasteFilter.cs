using System.Buffers;

namespace OpenSpe.Core.Terminal;

/// <summary>
/// Finds bracketed pastes (<c>ESC[200~</c> … <c>ESC[201~</c>, as xterm.js and other terminals wrap pasted text) in the bytes a
/// browser sends to a terminal, and forwards them or drops them whole, markers included, by the permit's clipboard <c>in</c>
/// rule (TIR-25). Every other byte passes unchanged. One instance per session: a marker split across frames is still found.
/// </summary>
/// <remarks>
/// Note: a terminal cannot tell typed bytes from pasted ones; only the markers tell. This filter therefore stops the browser's
/// paste path (the page marks every paste when <c>in</c> is not allowed), not a person who types the text or a client that
/// sends it unmarked (docs/workspaces.md says so). A partial start marker at the end of a frame is held back for the next one
/// only from its third byte (<c>ESC[2</c>) on, because the Escape key and Alt+[ send <c>ESC</c> and <c>ESC[</c> alone and
/// must not wait for the next key.
/// </remarks>
public sealed class BracketedPasteFilter(bool allowPaste)
{
    /// <summary>The start marker.</summary>
    public static ReadOnlySpan<byte> StartMarker => "\e[200~"u8;

    /// <summary>The end marker.</summary>
    public static ReadOnlySpan<byte> EndMarker => "\e[201~"u8;

    private const int HoldFrom = 3;

    private int _matched;
    private bool _inPaste;
    private long _pasteBytes;

    /// <summary>Whether pastes pass (the permit's clipboard allows <c>in</c>).</summary>
    public bool AllowPaste { get; } = allowPaste;

    /// <summary>Pastes forwarded so far.</summary>
    public long PastesForwarded { get; private set; }

    /// <summary>Pastes dropped so far.</summary>
    public long PastesDropped { get; private set; }

    /// <summary>
    /// Filters one frame: writes what may reach the terminal to <paramref name="output"/> and adds the size (bytes between the
    /// markers) of each paste dropped in it to <paramref name="dropped"/>.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> input, IBufferWriter<byte> output, ICollection<long> dropped)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(dropped);
        foreach (var b in input)
        {
            if (_inPaste)
            {
                InPaste(b, output, dropped);
            }
            else
            {
                Outside(b, output);
            }
        }

        if (!_inPaste && _matched is > 0 and < HoldFrom)
        {
            Emit(output, StartMarker[.._matched]);
            _matched = 0;
        }
    }

    private void Outside(byte b, IBufferWriter<byte> output)
    {
        if (b == StartMarker[_matched])
        {
            if (++_matched < StartMarker.Length)
            {
                return;
            }

            _matched = 0;
            _inPaste = true;
            _pasteBytes = 0;
            if (AllowPaste)
            {
                Emit(output, StartMarker);
            }

            return;
        }

        // Note: ESC occurs only first in the marker, so after a mismatch the byte can only start a new marker.
        Emit(output, StartMarker[.._matched]);
        _matched = 0;
        if (b == StartMarker[0])
        {
            _matched = 1;
            return;
        }

        Emit(output, [b]);
    }

    private void InPaste(byte b, IBufferWriter<byte> output, ICollection<long> dropped)
    {
        _pasteBytes++;
        if (AllowPaste)
        {
            Emit(output, [b]);
        }

        _matched = b == EndMarker[_matched] ? _matched + 1 : b == EndMarker[0] ? 1 : 0;
        if (_matched < EndMarker.Length)
        {
            return;
        }

        _matched = 0;
        _inPaste = false;
        if (AllowPaste)
        {
            PastesForwarded++;
        }
        else
        {
            PastesDropped++;
            dropped.Add(_pasteBytes - EndMarker.Length);
        }
    }

    private static void Emit(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            output.Write(bytes);
        }
    }
}
