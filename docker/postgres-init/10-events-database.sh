#!/bin/sh
# Run once by the postgres image on an empty data volume: the API's event database beside MLflow's.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -c "CREATE DATABASE \"${EVENTS_DB}\" OWNER \"${POSTGRES_USER}\";"
