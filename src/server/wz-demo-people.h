/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_DEMO_RESIDENT_ID_SYSTEM "https://wenzhen.example/fhir/NamingSystem/resident-id"
#define WZ_DEMO_PASSPORT_SYSTEM    "https://wenzhen.example/fhir/NamingSystem/passport"

/* Made-up people for demo data, tests and benchmarks, one generator for all of them
 * (demo-data, the demo records, bench/queue/wz-gen-patients): Chinese names drawn with the
 * surname frequencies of the 2020 census and a few foreign residents, ages in the bands of an
 * online clinic's users, resident ID numbers carrying the birth date, sex and check digit of the
 * real card, and mainland mobile numbers written the ways people write them. */
typedef struct
{
  char     *family;         /* 王, or Smith */
  char     *given;          /* 芳, or Anna */
  char     *text;           /* 王芳, or Anna Smith */
  char     *family_latin;   /* Wang, or Smith */
  char     *given_latin;    /* Fang, or Anna */
  gboolean  foreign;        /* identified by a passport, named in Latin letters */
  gboolean  male;
  int       age;            /* whole years on the day given */
  char     *birth_date;     /* YYYY-MM-DD */
  char     *id_system;      /* WZ_DEMO_RESIDENT_ID_SYSTEM or WZ_DEMO_PASSPORT_SYSTEM */
  char     *id_value;
  char     *phone;
} WzDemoPerson;

/* A person drawn with RAND, their age counted back from TODAY. */
WzDemoPerson *wz_demo_person_new_random     (GRand         *rand,
                                             GDateTime     *today);
/* A person with the given Chinese name (family and given in Han characters) and birth date, the
 * rest drawn with RAND. */
WzDemoPerson *wz_demo_person_new_named      (GRand         *rand,
                                             GDateTime     *today,
                                             const char    *family,
                                             const char    *given,
                                             gboolean       male,
                                             const char    *birth_date);
void          wz_demo_person_free           (WzDemoPerson  *person);

/* "王芳 Wang Fang": the name as the app's lists show it. */
char         *wz_demo_person_display        (const WzDemoPerson *person);

/* The members of a Patient that say who PERSON is: identifier (with its type), name (official,
 * and with PINYIN_NAME for a Chinese name the pinyin as the usual name), telecom, gender and
 * birthDate. */
void          wz_demo_person_add_to_patient (const WzDemoPerson *person,
                                             gboolean            pinyin_name,
                                             JsonBuilder        *builder);

/* An 18-character resident ID number: REGION (6 digits), the birth date (YYYY-MM-DD), a sequence
 * number whose last digit is odd for men and even for women (SEQUENCE picks it), and the ISO
 * 7064 MOD 11-2 check character. */
char         *wz_demo_resident_id           (const char    *region,
                                             const char    *birth_date,
                                             gboolean       male,
                                             guint          sequence);
/* The check character of the first 17 digits of a resident ID number. */
char          wz_demo_resident_id_check     (const char    *first17);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzDemoPerson, wz_demo_person_free)

G_END_DECLS
