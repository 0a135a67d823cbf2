using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OpenSpe.Cli.Transfers;

/// <summary>
/// Progress of one phase of one file (encrypting, uploading) on standard error: on a terminal a bar redrawn in place with
/// bytes, rate and ETA (at most ten times a second); otherwise (a log, a CI job) one line per 10%.
/// </summary>
internal sealed class TransferProgress
{
    private const int BarWidth = 24;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _writer;
    private readonly bool _terminal;
    private readonly string _label;
    private readonly long _total;
    private readonly long _start;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private int _lastDecile;
    private long _position;
    private bool _finished;

    /// <param name="writer">Standard error.</param>
    /// <param name="terminal">Whether it is a terminal (draw a bar) or not (print a line per 10%).</param>
    /// <param name="label">What is being done to what, e.g. "uploading reads.bam".</param>
    /// <param name="total">Bytes in all.</param>
    /// <param name="start">Bytes already done before this run (a resumed upload): counted in the percentage, not in the rate.</param>
    public TransferProgress(TextWriter writer, bool terminal, string label, long total, long start = 0)
    {
        _writer = writer;
        _terminal = terminal;
        _label = label;
        _total = total;
        _start = start;
        _position = start;
        _lastDecile = total == 0 ? 0 : (int)(start * 10 / total);
    }

    /// <summary>Bytes per second over this run so far.</summary>
    public double Rate => _clock.Elapsed.TotalSeconds <= 0 ? 0 : (_position - _start) / _clock.Elapsed.TotalSeconds;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Moves to <paramref name="position"/> (it may go back, when the server's offset is behind ours).</summary>
    public void Report(long position)
    {
        _position = Math.Clamp(position, 0, _total);
        if (_terminal)
        {
            if (_clock.Elapsed - _lastDraw >= RedrawInterval)
            {
                _lastDraw = _clock.Elapsed;
                _writer.Write("\r" + Line() + "\u001b[K");
                _writer.Flush();
            }

            return;
        }

        var decile = _total == 0 ? 10 : (int)(_position * 10 / _total);
        if (decile > _lastDecile && decile < 10)
        {
            _lastDecile = decile;
            _writer.WriteLine(Line());
        }
    }

    /// <summary>Draws the final state (100% with the average rate) and ends the line.</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _position = _total;
        _writer.WriteLine(_terminal ? "\r" + Line() + "\u001b[K" : Line());
        _writer.Flush();
    }

    /// <summary>Prints a message on its own line (a retry, a resume); a bar is redrawn under it at the next report.</summary>
    public void Note(string text)
    {
        if (_terminal && _lastDraw != TimeSpan.MinValue)
        {
            _writer.Write("\r\u001b[K");
            _lastDraw = TimeSpan.MinValue;
        }

        _writer.WriteLine(text);
    }

    /// <summary>Ends a bar that will not complete (an error), so the error message starts on its own line.</summary>
    public void Abandon()
    {
        if (!_finished && _terminal && _lastDraw != TimeSpan.MinValue)
        {
            _writer.WriteLine();
        }

        _finished = true;
    }

    /// <summary>Sizes in IEC units: <c>512 B</c>, <c>1.5 KiB</c>, <c>2.00 GiB</c>.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0#} {units[unit]}");
    }

    /// <summary>A rate in MB/s (decimal megabytes, as network rates are usually quoted).</summary>
    public static string RateText(double bytesPerSecond) => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1e6:0.0} MB/s");

    private string Line()
    {
        var fraction = _total == 0 ? 1.0 : (double)_position / _total;
        var text = new StringBuilder(_label).Append(' ');
        if (_terminal)
        {
            var filled = (int)Math.Round(fraction * BarWidth);
            text.Append('[').Append('#', filled).Append('-', BarWidth - filled).Append("] ");
        }

        text.Append(CultureInfo.InvariantCulture, $"{fraction * 100,3:0}%  {Bytes(_position)} of {Bytes(_total)}");
        var rate = Rate;
        if (rate > 0)
        {
            text.Append("  ").Append(RateText(rate));
            if (_position < _total)
            {
                text.Append("  ETA ").Append(Duration(TimeSpan.FromSeconds((_total - _position) / rate)));
            }
            else
            {
                text.Append("  in ").Append(Duration(_clock.Elapsed));
            }
        }

        return text.ToString();
    }

    private static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
        : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s");
}
