/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-demo-people"

#include "config.h"

#include "wz-demo-people.h"

#include <stdio.h>
#include <string.h>

#include "wz-pinyin.h"

#define ID_TYPE_SYSTEM "http://terminology.hl7.org/CodeSystem/v2-0203"

typedef struct
{
  const char *text;
  double      weight;
} Weighted;

/* Surnames with their share of the population in per cent (2020 census, rounded); the rest of
 * the population is spread over the tail of the list. */
static const Weighted surnames[] = {
  { "王", 7.1 }, { "李", 7.0 }, { "张", 6.6 }, { "刘", 5.4 }, { "陈", 4.5 }, { "杨", 3.1 },
  { "黄", 2.0 }, { "赵", 2.0 }, { "吴", 1.6 }, { "周", 1.6 }, { "徐", 1.3 }, { "孙", 1.2 },
  { "马", 1.1 }, { "朱", 1.1 }, { "胡", 1.0 }, { "郭", 1.0 }, { "何", 0.9 }, { "林", 0.9 },
  { "高", 0.9 }, { "罗", 0.9 }, { "郑", 0.8 }, { "梁", 0.8 }, { "谢", 0.6 }, { "宋", 0.6 },
  { "唐", 0.6 }, { "许", 0.5 }, { "韩", 0.5 }, { "冯", 0.5 }, { "邓", 0.5 }, { "曹", 0.5 },
  { "彭", 0.4 }, { "曾", 0.4 }, { "肖", 0.4 }, { "田", 0.4 }, { "董", 0.35 }, { "袁", 0.35 },
  { "潘", 0.35 }, { "于", 0.33 }, { "蒋", 0.33 }, { "蔡", 0.33 }, { "余", 0.3 }, { "杜", 0.3 },
  { "叶", 0.3 }, { "程", 0.3 }, { "苏", 0.3 }, { "魏", 0.3 }, { "吕", 0.3 }, { "丁", 0.28 },
  { "任", 0.28 }, { "沈", 0.27 }, { "姚", 0.26 }, { "卢", 0.26 }, { "姜", 0.25 }, { "崔", 0.25 },
  { "钟", 0.24 }, { "谭", 0.24 }, { "陆", 0.23 }, { "汪", 0.23 }, { "范", 0.22 }, { "金", 0.22 },
  { "石", 0.21 }, { "廖", 0.21 }, { "贾", 0.2 }, { "夏", 0.2 }, { "韦", 0.2 }, { "付", 0.19 },
  { "方", 0.19 }, { "白", 0.18 }, { "邹", 0.18 }, { "孟", 0.17 }, { "熊", 0.17 }, { "秦", 0.16 },
  { "邱", 0.16 }, { "江", 0.16 }, { "尹", 0.15 }, { "薛", 0.15 }, { "闫", 0.14 }, { "段", 0.14 },
  { "雷", 0.13 }, { "侯", 0.13 }, { "龙", 0.13 }, { "史", 0.12 }, { "陶", 0.12 }, { "黎", 0.12 },
  { "贺", 0.11 }, { "顾", 0.11 }, { "毛", 0.11 }, { "郝", 0.1 }, { "龚", 0.1 }, { "邵", 0.1 },
  { "万", 0.1 }, { "单", 0.05 }, { "欧阳", 0.04 }, { "司马", 0.01 }, { "诸葛", 0.005 },
};

static const char male_chars[] = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林建国"
                                 "志文海东晨阳博子轩然睿泽荣德成永庆福";
static const char female_chars[] = "芳娜敏静丽艳娟霞秀英玲桂兰婷雪慧琳颖洁倩梅萍红燕欣怡涵萱悦佳"
                                   "琪雨梦思可诗淑珍凤";

static const char *const latin_families[] = {
  "Smith", "Johnson", "Müller", "Schmidt", "Kim", "Park", "Nguyen", "Tanaka", "Sato", "Ivanov",
  "García", "Martin", "Brown", "Wilson", "Rossi", "O'Brien",
};
static const char *const latin_male[] = {
  "James", "John", "Michael", "David", "Thomas", "Minjun", "Hiroshi", "Alexander", "Luca",
  "Pierre",
};
static const char *const latin_female[] = {
  "Mary", "Anna", "Emma", "Sophie", "Yuki", "Jiwoo", "Maria", "Olga", "Laura", "Julia",
};

/* Administrative divisions the ID numbers are issued in. */
static const char *const regions[] = {
  "110101", "110105", "110108", "120101", "310101", "310104", "310115", "320102", "320583",
  "330106", "340104", "350203", "370202", "410105", "420106", "430104", "440103", "440305",
  "440604", "450103", "500103", "510107", "520102", "530102", "610113", "620102", "210102",
  "220102", "230103", "130102",
};

/* Age bands (lowest and highest age, share in per cent) of the people who use an online
 * clinic. */
static const struct { int from, to; double weight; } age_bands[] = {
  { 0, 5, 6 }, { 6, 17, 8 }, { 18, 29, 12 }, { 30, 39, 16 }, { 40, 49, 14 }, { 50, 59, 16 },
  { 60, 69, 15 }, { 70, 79, 9 }, { 80, 95, 4 },
};

static gboolean
chance (GRand  *rand,
        double  p)
{
  return g_rand_double (rand) < p;
}

static const char *
pick_surname (GRand *rand)
{
  static double total;
  double x;

  if (total == 0)
    for (guint i = 0; i < G_N_ELEMENTS (surnames); i++)
      total += surnames[i].weight;

  x = g_rand_double (rand) * total;
  for (guint i = 0; i < G_N_ELEMENTS (surnames); i++)
    {
      if (x < surnames[i].weight)
        return surnames[i].text;
      x -= surnames[i].weight;
    }

  return surnames[G_N_ELEMENTS (surnames) - 1].text;
}

/* One character of a string of Chinese characters (each 3 bytes in UTF-8). */
static void
append_random_char (GRand      *rand,
                    GString    *out,
                    const char *chars)
{
  guint n = strlen (chars) / 3;

  g_string_append_len (out, chars + 3 * g_rand_int_range (rand, 0, n), 3);
}

/* "wang" → "Wang": the syllables of TEXT joined, first letter capital. */
static char *
pinyin_word (const char *text)
{
  g_auto(GStrv) syllables = wz_pinyin_syllables (text);
  char *word = g_strjoinv ("", syllables);

  if (*word)
    word[0] = g_ascii_toupper (word[0]);
  return word;
}

char
wz_demo_resident_id_check (const char *first17)
{
  static const int weights[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  int sum = 0;

  for (guint i = 0; i < 17; i++)
    sum += (first17[i] - '0') * weights[i];

  return "10X98765432"[sum % 11];
}

char *
wz_demo_resident_id (const char *region,
                     const char *birth_date,
                     gboolean    male,
                     guint       sequence)
{
  GString *id = g_string_sized_new (19);

  g_string_append_len (id, region, 6);
  for (const char *p = birth_date; *p != '\0'; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (id, *p);
  /* Three digits, the last odd for a man and even for a woman. */
  g_string_append_printf (id, "%03u", (sequence % 500) * 2 + (male ? 1 : 0));
  g_string_append_c (id, wz_demo_resident_id_check (id->str));

  return g_string_free (id, FALSE);
}

static void
fill_contact (WzDemoPerson *person,
              GRand        *rand)
{
  /* 1[3-9]x: mainland mobile numbers, written the ways people write them. */
  guint second = g_rand_int_range (rand, 3, 10);
  guint third = g_rand_int_range (rand, 0, 10);
  guint a = g_rand_int_range (rand, 0, 10000), c = g_rand_int_range (rand, 0, 10000);

  person->phone = chance (rand, 0.2)
                  ? g_strdup_printf ("+86 1%u%u-%04u-%04u", second, third, a, c)
                  : g_strdup_printf ("1%u%u%04u%04u", second, third, a, c);

  if (person->foreign)
    {
      person->id_system = g_strdup (WZ_DEMO_PASSPORT_SYSTEM);
      person->id_value = g_strdup_printf ("%c%08u", 'A' + g_rand_int_range (rand, 0, 26),
                                          g_rand_int_range (rand, 0, 100000000));
    }
  else
    {
      const char *region = regions[g_rand_int_range (rand, 0, G_N_ELEMENTS (regions))];

      person->id_system = g_strdup (WZ_DEMO_RESIDENT_ID_SYSTEM);
      person->id_value = wz_demo_resident_id (region, person->birth_date, person->male,
                                              g_rand_int_range (rand, 0, 500));
    }
}

static int
age_on (const char *birth_date,
        GDateTime  *today)
{
  int year, month, day, age;

  if (sscanf (birth_date, "%d-%d-%d", &year, &month, &day) != 3)
    return 0;
  age = g_date_time_get_year (today) - year;
  if (g_date_time_get_month (today) < month ||
      (g_date_time_get_month (today) == month && g_date_time_get_day_of_month (today) < day))
    age--;

  return MAX (age, 0);
}

WzDemoPerson *
wz_demo_person_new_random (GRand     *rand,
                           GDateTime *today)
{
  WzDemoPerson *person = g_new0 (WzDemoPerson, 1);
  g_autoptr(GDateTime) birth = NULL;
  double band_total = 0, x;
  guint band = 0;
  int age;

  for (guint i = 0; i < G_N_ELEMENTS (age_bands); i++)
    band_total += age_bands[i].weight;
  x = g_rand_double (rand) * band_total;
  while (band + 1 < G_N_ELEMENTS (age_bands) && x >= age_bands[band].weight)
    x -= age_bands[band++].weight;

  age = g_rand_int_range (rand, age_bands[band].from, age_bands[band].to + 1);
  person->foreign = chance (rand, 0.03);
  person->male = chance (rand, 0.48);
  birth = g_date_time_add_days (today, -(age * 365 + g_rand_int_range (rand, 0, 365)));
  person->birth_date = g_date_time_format (birth, "%Y-%m-%d");
  person->age = age_on (person->birth_date, today);

  if (person->foreign)
    {
      const char *const *givens = person->male ? latin_male : latin_female;

      person->family = g_strdup (latin_families[g_rand_int_range (rand, 0,
                                                                  G_N_ELEMENTS (latin_families))]);
      person->given = g_strdup (givens[g_rand_int_range (rand, 0, 10)]);
      person->text = g_strdup_printf ("%s %s", person->given, person->family);
      person->family_latin = g_strdup (person->family);
      person->given_latin = g_strdup (person->given);
    }
  else
    {
      const char *chars = person->male ? male_chars : female_chars;
      GString *given = g_string_new (NULL);

      person->family = g_strdup (pick_surname (rand));
      append_random_char (rand, given, chars);
      if (chance (rand, 0.7))
        append_random_char (rand, given, chars);
      person->given = g_string_free (given, FALSE);
      person->text = g_strconcat (person->family, person->given, NULL);
      person->family_latin = pinyin_word (person->family);
      person->given_latin = pinyin_word (person->given);
    }

  fill_contact (person, rand);
  return person;
}

WzDemoPerson *
wz_demo_person_new_named (GRand      *rand,
                          GDateTime  *today,
                          const char *family,
                          const char *given,
                          gboolean    male,
                          const char *birth_date)
{
  WzDemoPerson *person = g_new0 (WzDemoPerson, 1);

  person->family = g_strdup (family);
  person->given = g_strdup (given);
  person->text = g_strconcat (family, given, NULL);
  person->family_latin = pinyin_word (family);
  person->given_latin = pinyin_word (given);
  person->male = male;
  person->birth_date = g_strdup (birth_date);
  person->age = age_on (birth_date, today);
  fill_contact (person, rand);

  return person;
}

void
wz_demo_person_free (WzDemoPerson *person)
{
  if (person == NULL)
    return;

  g_free (person->family);
  g_free (person->given);
  g_free (person->text);
  g_free (person->family_latin);
  g_free (person->given_latin);
  g_free (person->birth_date);
  g_free (person->id_system);
  g_free (person->id_value);
  g_free (person->phone);
  g_free (person);
}

char *
wz_demo_person_display (const WzDemoPerson *person)
{
  if (person->foreign)
    return g_strdup (person->text);

  return g_strdup_printf ("%s %s %s", person->text, person->family_latin, person->given_latin);
}

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_name (JsonBuilder *b,
          const char  *use,
          const char  *text,
          const char  *family,
          const char  *given)
{
  json_builder_begin_object (b);
  add_string (b, "use", use);
  add_string (b, "text", text);
  add_string (b, "family", family);
  json_builder_set_member_name (b, "given");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, given);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
wz_demo_person_add_to_patient (const WzDemoPerson *person,
                               gboolean            pinyin_name,
                               JsonBuilder        *b)
{
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "use", "official");
  json_builder_set_member_name (b, "type");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "system", ID_TYPE_SYSTEM);
  add_string (b, "code", person->foreign ? "PPN" : "NNCHN");
  json_builder_end_object (b);
  json_builder_end_array (b);
  add_string (b, "text", person->foreign ? "护照 Passport" : "居民身份证 Resident identity card");
  json_builder_end_object (b);
  add_string (b, "system", person->id_system);
  add_string (b, "value", person->id_value);
  json_builder_end_object (b);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "name");
  json_builder_begin_array (b);
  add_name (b, "official", person->text, person->family, person->given);
  if (pinyin_name && !person->foreign)
    {
      g_autofree char *text = g_strdup_printf ("%s %s", person->family_latin,
                                               person->given_latin);

      add_name (b, "usual", text, person->family_latin, person->given_latin);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "telecom");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "system", "phone");
  add_string (b, "value", person->phone);
  add_string (b, "use", "mobile");
  json_builder_end_object (b);
  json_builder_end_array (b);

  add_string (b, "gender", person->male ? "male" : "female");
  add_string (b, "birthDate", person->birth_date);
}
