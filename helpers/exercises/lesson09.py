"""Checks for the exercises of lesson 09 (Dask and Spark side by side).

Each check takes the objects its exercise asks for and returns a
:class:`~helpers.exercises.Feedback`. Nothing is imported from PySpark: the Spark check only
calls methods of the session it is given (``spark.sql(query).inputFiles()``, which reads no
data), so it runs wherever the lesson's Spark cells run.
"""

from __future__ import annotations

from helpers.exercises import (
    correct,
    exercise_check,
    is_dask_collection,
    is_persisted,
    n_pieces,
    require,
    workers_holding,
)

__all__ = ["check_exercise_1", "check_exercise_2"]

#: The columns of the query of both exercises: the group and the averaged value.
GROUP, VALUE = "platform", "session_minutes"


def _means(answer):
    """The mean per platform as a pandas Series with a plain, sorted string index.

    Accepts a Series indexed by platform, or a DataFrame with a ``platform`` column (or index)
    and one column of means, as ``spark.sql(...).toPandas()`` returns it.
    """
    import pandas as pd

    require(not is_dask_collection(answer),
            es="Tus medias todavía son perezosas: tráelas con `.compute()` (o `toPandas()` en "
               "Spark).",
            en="Your means are still lazy: bring them back with `.compute()` (or `toPandas()` "
               "in Spark).")
    if isinstance(answer, pd.DataFrame):
        frame = answer.set_index(GROUP) if GROUP in answer.columns else answer
        answer = frame[VALUE] if VALUE in frame.columns else frame.squeeze(axis="columns")
    require(isinstance(answer, pd.Series),
            es="Las medias deben ser una serie de pandas con una fila por plataforma (o un "
               "DataFrame con las columnas `platform` y la de la media).",
            en="The means should be a pandas Series with one row per platform (or a DataFrame "
               "with a `platform` column and the column of the mean).")
    means = answer.astype(float)
    means.index = means.index.astype(str)
    return means.sort_index()


def _same_means(left, right) -> bool:
    """Whether two series from :func:`_means` hold the same platforms and the same means."""
    import numpy as np

    return list(left.index) == list(right.index) and bool(
        np.allclose(left.to_numpy(), right.to_numpy(), rtol=1e-5, atol=0))


def _file_name(path) -> str:
    """The file name a path or URL ends with (``file:///d/part-0.parquet``: ``part-0.parquet``)."""
    return str(path).rstrip("/").rsplit("/", 1)[-1]


@exercise_check
def check_exercise_1(spark, query, sql_answer, player_files):
    """Check exercise 1: the mean of ``session_minutes`` per platform as a Spark SQL query.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The running session, where the student registered the ``players`` view.
    query : str
        The SQL text passed to ``spark.sql``.
    sql_answer : pandas.Series or pandas.DataFrame
        The query's result brought back with ``toPandas()``.
    player_files : list of str
        The lesson's player files (this machine's copy): the query must read all of them.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    import pandas as pd

    require(isinstance(query, str),
            es="`query` debe ser el texto de tu consulta SQL, el que pasas a `spark.sql(...)`.",
            en="`query` should be the text of your SQL query, the one you pass to "
               "`spark.sql(...)`.")
    # Analysing the query lists the files it reads; no Spark job runs.
    read = {_file_name(path) for path in spark.sql(query).inputFiles()}
    expected = {_file_name(path) for path in player_files}
    require(read,
            es="Tu consulta no lee ningún fichero parquet: ¿consulta la vista `players` que "
               "registraste?",
            en="Your query reads no parquet file: does it query the `players` view you "
               "registered?")
    require(read == expected,
            es=f"Tu consulta lee {len(read & expected)} de los {len(expected)} ficheros de "
               f"jugadores: la vista tiene que registrarlos todos.",
            en=f"Your query reads {len(read & expected)} of the {len(expected)} player files: "
               f"the view has to register all of them.")
    answer = _means(sql_answer)
    reference = _means(pd.read_parquet(list(player_files), columns=[GROUP, VALUE])
                       .groupby(GROUP, observed=True)[VALUE].mean())
    require(list(answer.index) == list(reference.index),
            es="Tu respuesta debe tener una fila por plataforma: agrupa por `platform` y deja "
               "la plataforma como índice (o como columna `platform`).",
            en="Your answer should have one row per platform: group by `platform`, and keep "
               "the platform as the index (or as a `platform` column).")
    require(_same_means(answer, reference),
            es="Las medias no coinciden con las de pandas sobre todos los ficheros: revisa qué "
               "columna promedias y con qué función.",
            en="The means do not match pandas's over all the files: check which column you "
               "average, and with what function.")
    return correct(
        es=f"Tu consulta SQL lee los {len(expected)} ficheros y da las mismas medias que "
           f"pandas. Spark traduce la consulta SQL y la cadena de métodos al mismo plan "
           f"(compruébalo con `spark.sql(query).explain()`).",
        en=f"Your SQL query reads the {len(expected)} files and gives the same means as "
           f"pandas. Spark turns the SQL query and the method chain into the same plan (see it "
           f"with `spark.sql(query).explain()`).")


@exercise_check
def check_exercise_2(frame, in_memory, from_parquet, persisted):
    """Check exercise 2: the same query on the parquet files and on a table persisted in Dask.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
        The lazy table read with ``dd.read_parquet`` (every computation reads the files again).
    in_memory : dask.dataframe.DataFrame
        The table kept in the workers' memory with ``persist()``.
    from_parquet, persisted : pandas.Series
        The mean per platform computed from ``frame`` and from ``in_memory``.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    from distributed import futures_of

    require(is_dask_collection(frame) and hasattr(frame, "npartitions"),
            es="`frame` debe ser el dataframe de Dask que devuelve `dd.read_parquet`, sin "
               "calcular.",
            en="`frame` should be the Dask dataframe that `dd.read_parquet` returns, not "
               "computed.")
    require(not is_persisted(frame),
            es="`frame` ya está en memoria: para la primera medida tiene que ser la lectura "
               "perezosa, que vuelve a leer el parquet en cada cálculo.",
            en="`frame` is already in memory: for the first timing it has to be the lazy read, "
               "which reads the parquet again at every computation.")
    require(is_dask_collection(in_memory) and hasattr(in_memory, "npartitions"),
            es="`in_memory` debe ser un dataframe de Dask: el que devuelve `persist()`.",
            en="`in_memory` should be a Dask dataframe: the one `persist()` returns.")
    require(is_persisted(in_memory),
            es="`in_memory` no está persistido: `persist()` no cambia la colección sobre la que "
               "lo llamas, sino que devuelve una nueva. Guarda la que devuelve.",
            en="`in_memory` is not persisted: `persist()` does not change the collection you "
               "call it on, it returns a new one. Keep the one it returns.")
    futures = futures_of(in_memory)
    require(futures,
            es="`in_memory` está en la memoria de este proceso, no en la de los workers: "
               "persístelo con el cliente de Dask activo.",
            en="`in_memory` is in this process's memory, not in the workers': persist it with "
               "the Dask client active.")
    # Waits for the pieces still being computed: persist() returns at once.
    require(workers_holding(futures[0].client, in_memory),
            es="Ningún worker guarda las particiones de `in_memory`: vuelve a ejecutar el "
               "`persist`.",
            en="No worker holds the partitions of `in_memory`: run the `persist` again.")
    require(all(future.status == "finished" for future in futures),
            es="Hay particiones de `in_memory` que no están en la memoria de los workers "
               "(fallaron o se perdieron): vuelve a ejecutar el `persist`.",
            en="Some partitions of `in_memory` are not in the workers' memory (they failed or "
               "were lost): run the `persist` again.")
    require(len(futures) == n_pieces(in_memory),
            es=f"`in_memory` dice tener {n_pieces(in_memory)} particiones, pero los workers "
               f"solo guardan {len(futures)}: es la colección rota del aviso (dask issue "
               f"12488). Persiste la tabla entera, leída sin `columns=`.",
            en=f"`in_memory` claims {n_pieces(in_memory)} partitions, but the workers hold only "
               f"{len(futures)}: that is the broken collection of the warning (dask issue "
               f"12488). Persist the whole table, read without `columns=`.")
    require(_same_means(_means(from_parquet), _means(persisted)),
            es="Los dos caminos deben dar las mismas medias: calcula la misma media por "
               "plataforma sobre `frame` y sobre `in_memory`, los dos con todos los ficheros.",
            en="Both paths should give the same means: compute the same mean per platform on "
               "`frame` and on `in_memory`, both over all the files.")
    return correct(
        es="`frame` vuelve a leer el parquet en cada cálculo, `in_memory` vive en la memoria "
           "de los workers, y los dos caminos dan las mismas medias. Recuerda la diferencia "
           "con Spark: `persist()` calcula en el acto, y `cache()` solo marca el DataFrame "
           "que se llena en la siguiente acción.",
        en="`frame` reads the parquet again at every computation, `in_memory` lives in the "
           "workers' memory, and both paths give the same means. Remember the difference with "
           "Spark: `persist()` computes right away, and `cache()` only marks the DataFrame "
           "which is filled at the next action.")
