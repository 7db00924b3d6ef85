namespace Engine.Gluon.Losses;

/// <summary>How <see cref="LogisticLoss"/> reads its labels (MXNet's label_format).</summary>
public enum LogisticLabelFormat
{
    /// <summary>Labels are -1 or 1 (MXNet's 'signed', the default).</summary>
    Signed,

    /// <summary>Labels are 0 or 1 (MXNet's 'binary').</summary>
    Binary,
}
