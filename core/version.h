/* Version of the copy-number core and of the JSON documents it writes; stored with every result. */
#ifndef RW_VERSION_H
#define RW_VERSION_H
#define RW_CORE_VERSION   "0.1.0"
#define RW_SCHEMA_VERSION 2 /* schema_version of JSON documents: CLI output, stored provenance */
#endif
