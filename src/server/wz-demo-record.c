/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-demo-record"

#include "config.h"

#include "wz-demo-record.h"

#include <math.h>
#include <string.h>

#include "wz-demo-fhir.h"
#include "wz-demo-people.h"
#include "wz-json.h"

#define LOINC   "http://loinc.org"
#define UCUM    "http://unitsofmeasure.org"

/* Pictures drawn for the demo: an ECG strip (PNG) and a one-page laboratory report (PDF). */
static const char ecg_png_base64[] =
  "iVBORw0KGgoAAAANSUhEUgAAAoAAAADcCAMAAADXwOC0AAAABGdBTUEAALGPC/xhBQAAACBjSFJNAAB6JgAAgIQAAPoA"
  "AACA6AAAdTAAAOpgAAA6mAAAF3CculE8AAAAFVBMVEXGt7f97u6jmppCPj5iXV0fHh6Ee3t+VO/kAAAAB3RJTUUH6gsZ"
  "DB8bb++FVgAAFrVJREFUeNrtXYlipSAMjKD+/ydXTpFLhECoz2zbbRUzmSScDxVgOQSOf5cvdeQ8Duqv4HhYHrJ6Fl/h"
  "h/vjuDL/SqS4ILJ8uB/uq4A/3Llwy5vAd/D9cCfDpVJYXEGIcD++g/hStZTYhNFhP76v5vsa+z6+rYR/LfM/3Klwy7vg"
  "lxCenQa2gejxxdY3vaM/ebdQZSpZ108kpXxf45fpm14ihdMvcyALFd9y3EfABaVnH4vdKmTPVqagQUPOCiy/YFekvj0h"
  "4/ni6+r8AltwnvFt26Tv+MaPr1IrkgWZVbIbzSVEfMuM3XuBRVsqrwLbQv47nBpSVA8eG1+FLccvu7aP3ev2Fd0b+C/k"
  "ymPf8uW8BAycwHcAJvNkWxmDXDV2r93XVCm+rsokoZVtd+2C0e3nmTF12+/jVogRTRJlYCwBbQU53KJcdPrKrTDg/f96"
  "ubYcZwKC6Ucuv5wJyKMJaM8t/BJHsfOGncpA/2IydJPn4z2XNolzo1krlBt5rL4jro4+WT30SaZyQjY1bINMZI/yzqYk"
  "dZ3TzerTJ/yRgKoU2IObKCP8orloI8Cjtlo3K0aiYQbddTu4EFxYE2DUYui4qRZw3VYuaids27rJRGNHx8EvCciyCXhp"
  "a/h6dMgbiJ9S6b7xbQXTSYu+nB3aeayD1CbJpsK2ObtUyJhQI06um1B1KNhMHwjymMVQgea5HthQlq2Tstf02fKQPr1I"
  "Ow4CO1M0tIlwFOXCR5reJlGFHjBmWjn/UnatuzgmTAXNgW0apXgYg5oH7eUqF6JNAu7GCVKPau6YOHwzBlTNgGhtxEjn"
  "TFDpVM53hQCbTF8ujgmFogdO9q7KJNXa2jZ3FxirsEYauUmlQoUMKMg/5Unxp8p5tmRAHN3yf2mv4MhMAl7ISuWHdjMO"
  "kZcKkyQAWNRV/Vi9yup0HapllhVGOpkfTZ5wk0rANd3NvEbiCciVX1S8RF+jmwIe74Ld+g2qmTkcCastoPJMJvSmsgGU"
  "72WTKrprMxxXxc9qD4kEXExQdaMFKvdkPq424g7Gqnu6VDxtiqgW8FDIuGlzZQIGGWTPaUDrMflTHNMmSUucy096nEtF"
  "JmG1n7g6pHKe71FzX7OPMz4G3ETfwVX9FdNZ21dcu2BzmTuJW50+w2aV9OKuWidQY26Qx2Rp1dxupxa2BiZ5CWgaOpuA"
  "2jZpk4jqefI8wc+ezxWt8+iyd5vRu77EtoD29GJQdA/BmQKTKM4kRCbgejHTusX8rjNx3c1FYmJiE19duMYTkGyht1Ta"
  "uuBjtqi26+8qmBAkYKp34G5XZYtfE1BXbRGG3XZzR9ZtsclwYgy4xBMQTOD8BDx+dexlrlhfMNllyhrCFmXmmYDm9KKU"
  "g9sCih+2OdZ+2Ve3TrgJ6Ay0tbfBXMQNS/OdbAGR82CWfY1mnYy7ieZ4Y4u3gKesl6TcYgm4GI8zrcdOmKODSjMLXhdn"
  "9hhJQLAJuNu+2E1AMSG49YwoopZIrrSd2fVpqJMgx3DtzFSvBQwS0DjXsNE8YHG7YNsC8sy4FVEm6dKP8Yps+Zjsg44u"
  "R80Z1KwynIQEVq+q6VQLD+4YUEbJbQFBhUTOP0BhxVYhQShRzQLonBUSJiA4PS1bIi0gU6u+SUeDSQDVAoJJAiZ4MLXC"
  "w2MJqHJOjTbk2BHyXbBxGxdrNgJ1NRMRfb0ZA2r9yTXSd4i/QKVnr0yu10s3HbNL1acdo7SzT40vw3B1vV7w5+cs2NRs"
  "nYC2uzkaDtXLyfJhZVf6ZKoKfHP4HE6GY0BwZi1OAsqpckYk4xUchWzTh9UiuD69LNcxoMosXdcEbT8B/RbQDJI34yt+"
  "9tuXlpflWsBJlk3agZMKzYnz/LNW+sbS87Tt1+54FOLnP07MfUp2+RQCgityBq637VQS+DqSmf0eDmTYGTak9p3Xd4dT"
  "ShtW616zAauSPnrBH5Rta5uqvlFmv9uN6n7kLriYOqm2T02+75Ju3fMlDiSbNCDjolfg19QkbJl+q/hLZPZPdD55tzx4"
  "PBY28o/hUpk3+5hy8nhMbx+VzD5CwF9deQ3jT6YSqhb1y78xMvvj9+hmwUTlsJcbqPSRCV0GvkRmb3qxNwWUwlLpm73L"
  "fMtk6pO4oDeAXyLMJdPH1ywEwvllP968fKt9ps6XOb6oa8A54Pzt6XWugxTeBQRcffolAZ7+O30XveCf9/Xpsw7d5cro"
  "Rp/P19cX2g9LWl+AtzjvS1hS9l/jEfd/Sp/P9z6+JfrS+eXci23wwNd8jbz4sW3g0THuzb0fwgbc1xcyMeWv+tTe7PC6"
  "G30XfuCd9687/XeqArnH1g14Wp/P19eXszPQt23Bec/PSftNucWz506fz7cgvnf6kvm1VH8QcrO7uJvQ4db5aQLcKgUD"
  "+VZlIGQSAdtyVx/8WAJS+TnHtxQXvZyXCK38axM/dRn6ul0pbo0+BNyuMhC3rgseaSA2bk0mAFGL8I8Tv/j6qgxk7Y6p"
  "EkbXIoy5Ozfkm8TtnPisoBg6LopjesqHa6XrEBCBL3qiXgpS1UwM3BqhSsB9YCKU8u2a+RgGIgNT1cxLuZWIL0ICVpmH"
  "wbcUt2oMuG4byQMjVqL7HxkR3/0H+Fa1gANriI/b7JjKCjeMr2sfVYUbyrema8gkAvbgEx23RgbyfQtu30lIriVCXhCe"
  "ApePw72UG4iLzbfYvqqWg2+tz86uEz5ubOInwsd3BHCpEAbk7Ynwc3yrmsANwTE1TTkCbtVW8YF8ARu3xr6BuHU3JWEk"
  "Qk059UDHNoXYuMh8L5LzM/IYC5tv34/iMAz8cD9cIWQJWNn1/9uA/BrfUqnclpc0sOs6EZVjRvJ1r8Ho+ivHvK180Q28"
  "7tZZScZioF/B1gJbx5eP4+voy/m578bzdr7Y8bhoBPHePoKNeRK3lTE2bm++BBsvUfj27RpoEpD9GO5P+LlmHRDFwIqm"
  "/Bdw3XL/mi+2X1xh274SOaYZt2bIIXHZbTEUXGy+VH4uNq8GZxcJSLAfK5cIfXFp+O4be7+fa2omnWNYc0tUI1m+Haej"
  "OxFfhhBf/LvinHIrhmMqPHiAstZEqOS7j6pw191nCImP7Gf0/Z51+xWhPRFKefiJMGiLsJcIO02Fy/gZG7bUzzPclCQd"
  "Q7A/CSMg1biNfGf387XCDfRzjWM4kWNG4pby7TkWm5EvutQMJQ4DodnACuChiVCI23MshsIX2c/YsFWDwA0jASsEA7eO"
  "7zIsIK59GLg19g3FrdsltBAl4Ic7DHfYlmgiA2t2pYx0jNcSJXF7jgFR/EyEW25gXSIswwJyTYR23LoueKG4B+E/+7nn"
  "fcGydozbsYiLW2GefE7pKL6XXW88k/j9Jj848e04OcsbiCxBQMZvzMvivtLP60BcKsd8ARnDt8rPI/lG3q/h/g3mkPP+"
  "CqYNVOfAuwiC49fv85crzvnTK29PlOAm7T8Rku/NiNu3gMaFjH3h9d7X+b6TJfBJ3L4TNxqfiJ9j/rRNTLF9IP1sH9Lr"
  "l7/BDcslzp+4tpT9GRSAMw/E176tsJgdi8F7JCJ6Lt9L5P0fcYOW5VJOBUThBnZm9V34QQYvbt+Vb8I+7/qIXxJ4aft2"
  "m/hO+AJ9MX8vmfd13Nnn+tmpLrn43vHN5BfUPB9Qfk5IsFfcScDBuBh8a/y8Z3Cx3XDqw/Fz6eXFMGfBPeuYfgbu2UTo"
  "F5B9aCKcIvmO2wJuhaHg9rPvxjHIdjvqUAKCzbdf3iMl4HNZR8a3pqWUtqV2SqK3vIWOqWjJUfiiywm8ElU4jdsW32L7"
  "KsaA0ifDtghPgtu6BbzWz8lEQK7p4CY+QoVDf2G1I3xoi3DK2JaInu9v4FZ0XVy1RPE92x1f1Z7F7Tg2yeP2E4nLGnGx"
  "GxiyN5w75baRjnHK6YCsTfoq7Mvy7d3TtOJi863Qly9XQUR+StNqYIVo3OEb5HiWb79JKo6fn9s31s8VXTCOgZWOgVF7"
  "8rH5PpffwK3YD5hPhFLcSsdAYxdcNeRYEBIf28/9CKPEt+PqgDEwvlGt4yB1qGOK+WLDBnzH4IaJ3xZf7HVZ9wpp2qg9"
  "26d9Y3Gp+P4c7uwJ+OHS4FJsvCwsqDvBUVuEbTmGg4vMF71LspLn2++jR8W39S6scvseK6RyzE0CfrgtsHTxxa6Z/USv"
  "iBHgUvH9CdzK7WLvd8wEfFFwHwd4MN/nTSBDGRM97xv2rGP6Tfv1p6KtO3Cx/dwLliy+xQV3lIBUbohO43Zbn7IJGC+G"
  "jAulfu426Roc3+eJgNQiPJaxuB/fQXxr9kky9d+rAzIN37fjPm8CtWXNW2afFuMGd8xYrJRvt53JY/1MFt/KfaFJA/t9"
  "VshxEgGb72N9pYLD9//Et1j09Gj405q1Y4bfFMJxWoTHshHxHRzfmgTUARm8H8s6pmmHZkOFo+FLlfij4vu8qbypId2a"
  "aI076uaMkG8Ut1+XhFPhGvgOiu9jhWMdU4rb7zNopBawnu+aL3ejb/b4Pu4ZAMcxz+UmEboBj03Ak4/ejjKa7+j4VoyJ"
  "+MVB4xxjcJsSoaLCoeBW821M/Onj+7iJhhsD1cmVi2eaYXjGlCvF5Ti4Eb6ZRIB1Q8I9y5fhduQ7Nr7F5UyNzBm4b1JQ"
  "BxFgcdMBYeNxZQXWuChN5FnhhvIli29Fl3Rr4GEfAzi8k1tAeApc4Jhd5IDAxczAMtwdJOvhuPh8R8e3dpdQ8vnt4hGv"
  "yrKshQ0tb3Rbinh0JyZuwBeSG+SYeYopRgZOw3dUfB9Pg+36UMIx4gQzRTObGmtbwPROSVRcJxH2LC6U4TYkwhC+Du7Y"
  "+D5eT1rzBooC/Py1fVhUigsO2Iy4TxNhMF/y+KI55lIt0o00Oi5ccVP6e+M2d8LFiU/EFzu+9QYmNuZxd0jM8N5w5eBG"
  "C15wd7y7aZ2AxPgCd2PwJr6D4uu8H2I5H7kvD6m1Lef9AfICaSBIz+t3BziXirkgVyNydVSZG9Mfvp/E4so1prOgh3vW"
  "Onv6KC1xwUKIQnH9IV/zZdbyQNNVvxvc88UF7lWar8EBHzfU512/BHz1f/34Thhf8Lwiv9Vajz54vvjBvKhjUVX/+t4M"
  "OSJ3vcvO+Fy9nn6fSAJ3TeDqC6O4vv5lSb1PBAwuuwTJBET8ronb86DDxGxAQDUJLrD7nhVYItdT8J0uvtGmUa4xrWG/"
  "Y1vm6NbkYPXo6Q56SlzR3JnLrGOsIh7H9TpI/nAU+It+vuCmMpCrCc455QkCEt2oFvj/6SihO24hX1vMZti7+ZLH1xNb"
  "gPvL7NmARFZNExO0ROL3x03xXc0vfXATQsd3lvjGy8HZFdmXlZUYuOoRkSP7k7WieXAdB1uFUVz/EMt8ZjwxXzI/pxJ1"
  "P39dLwVzBkKsOjx5xgMdrr+oCwHuPgT37X72ceMV011sBDst0jZwW4hl9EedfCdUuLnFZAc30Cdqf+DAStxf8HMEN56B"
  "mcVVyAVkK5oo6sP/BXezx9fwunLcmEzJdyxuNP+8D5n1glDaQNOZs1iDYNpycMtGf/FnVNwsAd85JjETW9XibOgXf/Dh"
  "Xb/lca/XRfhys3K4XP6zGnvyTbrZPT4TrlkX9IRdca0szv5I9Vvmusj1d1KPG6lJ0IzL73BTM4t2XPbcz/8SN351sNh4"
  "OjwbEL4s8SahUDK4rmN4DHeZB7c4Hg248R7u/+GeH4X4baif5ouqHZ6B1bfMBC1WBljcCnzeJahxef6yKIFHBqoxt8c3"
  "+CSgx2spRJ+WxK3gMTtuuc6jxQwSofO9YmBxLVAb7gPCWb6dAgIa6dbPD/SV8x2P+6wCH7M+Z3IuhmbBYlGPxC/C7dAS"
  "iVmfc3+2CMiYJ7UU8MUWIMJ99nisoy9cfQNrA/8E96iHHm71UwIfVZAjGqNx9U6YHQv3kYFUuOWFN+4ZGK4B9TDYxQXt"
  "mC4EA9ztli82VZ+vwa3t8h/2waNxy3su3UY7FjUF5FlXLXBdx4T3DPapqFuA6/NF7/oTfGsrepuf+8f3YeD2awLCgBdJ"
  "ARFuyJdvw57PQYlrE5CPi2956atjoHqS9NRKLyCjnhR0zxcfciLcFj/3mQaLPsn+fjimYVL4rAtxcY+JT2ynBrJfDMdL"
  "IvTHtVh3uM94lIoX3xAXfZXjoULmOEYmAlQqfOgY5idg6Tp2I+F1NK4uthPhsmsC8uoKV2zeQyJwdczzSdJzCyO4bADu"
  "Mjlut7GOg/tgY089Yn35ddsHGGhwT2AZECLcYS/vnQJ3RHwbKtK6RfYi9nt/rpV94xFcfNfEcINE6LMMc49bLPXxOGYg"
  "/XFbHCjm7GMmZwW42IPj6L7GFr71C7OsBRebL/rYs6klwn0iXqmwD/dFuA01hG3DxuSIuPVXUvLtPRkt54u+6aM+A2GL"
  "jVGxx4DxLgnZC2WWNOG2jMVaEqGtwvXn25DQ0YB0Wp+6xR2Q+HG+/SddsA2YCxTz7Y87xjENArExeY/tgCR8o4nQH3ci"
  "vuWXDpgEJxzTfTJKxhcbF5sv+tizoQtBeSh3jclR3P7rMGNwC/niJwIR3xYi8fuUuztmGTI5K+U7BLehojeMUYeswqAn"
  "YDFyC243f/Tj24RLxXcAyIiWA70cTd638Wi6NYCIb0MH17C810hk9ox+CW6v/XbDBT1TZ5ePx1y4syc+VUv+a/Ela/Df"
  "ktBUMntCU0n5EMG8HyL9Lb/c5+7bg+rvy/El+X4I7xuymK46Tx8skS8Hdsnj+3wvfAJ9JXxjuOCV9v0Se09JjkdQ3nnv"
  "yBP/PcW991/Czkd8b7PAEr5GIpYO6fdSeFYX4cbfNxHBd9SF5S/6ItxKeURxS8tl7Lscj/g5q4/afwX6bvPlFTI7EWz7"
  "3qKPahBIlvnFjkEu9xYhS1QqvsjAs+cLenxn91+xwtKWDdtAIiGrmG9xYCnd6bvCYiI0uOj2za4Pe4j1kvz75L/K9F3I"
  "5DVk+mWE19hH1XVNXg6bB7a+6ctNX4Ox5df4Ystbaub08hoikwtVC0g29qRaTsLGfUmfjj9bJjJw9oVyqvVWKv/hV6SX"
  "dEkvoUEm06+afPLJI3nLCj3VEIFqTEnWBc8+lqXCnX3S8H0ylcD9uuBPSGX2mvlz8muOJhs7oRtIw3f6dVQi/5XbN3uA"
  "sYF/bCF6+snZWwa9s/dcn32zAX/yiRCyj7pmbwK/m7XGwFLdBPOWzzJnr8Cz2/d1wZ/QypeACfkcM0aoukyq/WKzbz/D"
  "Fir/lRuIXpCGyOwffs8+ppx9v+InCfnWzxrtm53HJy+Xn/vICRl3+v1xk9/SQPao3NnlLTym5/trjv69HZ9EuG+x7y18"
  "X7KbDV3InoxAtpV98u1nsz99imo9mO7NN1SO/rFBLxnf2fVhy+xd8Ftw32Pgj8mvxQOC90joH3B+qT/P90P45Z1D56DS"
  "KxcUhvD6KD4krvfxIW//Wbid71P7YriOPQrtcsB9P4l3HvTVzns9aPne2Rc7f+Frv8FVaKGNGrgyvZR3/obE9YGnLBG4"
  "wYfo9T7+RV8OH4PvU/vUfxD3x/V4+N4R/7ozXwLcQP/F3E587+xLnbe4UNt4/lP5+M4lxfaVFpycMDpfMgM/3M++B/ZR"
  "3f6K7T90XGyF6AEpLDf7/c3oMjvf4rhRZSCVTM4DHXZyvtPbRyUf37cD/xrfr6bH6f5aD/wWIRu7I5ejG3N88omQ2cee"
  "s/P4OUEP3OTTebLlARrY3+uRvvWuxoKTl5u9QaB7Uc0nTTL7EObLl0+kzJ6oZJk6vWNml9k/5MX+TPY164DTG4hMA3ts"
  "R2Tf78nXRI+Rzy+fkArVZ3Fv+ehn+q5r9o2Df+WhWnnxXXNMAAAAJXRFWHRkYXRlOmNyZWF0ZQAyMDI2LTExLTI1VDEy"
  "OjMxOjI2KzAwOjAwyAuh+AAAACV0RVh0ZGF0ZTptb2RpZnkAMjAyNi0xMS0yNVQxMjozMToyNiswMDowMLlWGUQAAAAA"
  "SUVORK5CYII=";

static const char lab_pdf_base64[] =
  "JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwg"
  "L1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2Ug"
  "L1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCA1OTUgODQyXSAvUmVzb3VyY2VzIDw8IC9Gb250IDw8IC9GMSA0IDAg"
  "UiA+PiA+PiAvQ29udGVudHMgNSAwIFIgPj4KZW5kb2JqCjQgMCBvYmoKPDwgL1R5cGUgL0ZvbnQgL1N1YnR5cGUgL1R5"
  "cGUxIC9CYXNlRm9udCAvQ291cmllciA+PgplbmRvYmoKNSAwIG9iago8PCAvTGVuZ3RoIDU2NiA+PgpzdHJlYW0KQlQg"
  "L0YxIDEyIFRmIDUwIDc4MCBUZCAxNiBUTAooV2VuemhlbiBkZW1vIGNsaW5pYyAtIExhYm9yYXRvcnkgcmVwb3J0KSBU"
  "aiBUKgooUGF0aWVudDogWmhhbmcgWGl1eWluZyBcKGZlbWFsZSwgYm9ybiAxOTUxLTAzLTE0XCkpIFRqIFQqCihTYW1w"
  "bGU6IHZlbm91cyBibG9vZCwgZmFzdGluZykgVGogVCoKKCkgVGogVCoKKEhiQTFjICAgICAgICAgICAgICAgICAgICAg"
  "IDcuNCAlICAgICAgICBcKDQuMCAtIDYuMFwpICAgSCkgVGogVCoKKEZhc3RpbmcgcGxhc21hIGdsdWNvc2UgICAgIDcu"
  "OCBtbW9sL0wgICBcKDMuOSAtIDYuMVwpICAgSCkgVGogVCoKKExETCBjaG9sZXN0ZXJvbCAgICAgICAgICAgIDMuMSBt"
  "bW9sL0wgICBcKDwgMi42XCkgICAgICAgSCkgVGogVCoKKFNlcnVtIGNyZWF0aW5pbmUgICAgICAgICAgIDc4IHVtb2wv"
  "TCAgICBcKDQ1IC0gODRcKSkgVGogVCoKKGVHRlIgICAgICAgICAgICAgICAgICAgICAgIDY4IG1ML21pbi8xLjczbTIp"
  "IFRqIFQqCigpIFRqIFQqCihSZXBvcnRlZCBieSB0aGUgZGVtbyBsYWJvcmF0b3J5LiBOb3QgYSByZWFsIHBhdGllbnQu"
  "KSBUaiBUKgpFVAplbmRzdHJlYW0KZW5kb2JqCnhyZWYKMCA2CjAwMDAwMDAwMDAgNjU1MzUgZiAKMDAwMDAwMDAwOSAw"
  "MDAwMCBuIAowMDAwMDAwMDU4IDAwMDAwIG4gCjAwMDAwMDAxMTUgMDAwMDAgbiAKMDAwMDAwMDI0MSAwMDAwMCBuIAow"
  "MDAwMDAwMzA5IDAwMDAwIG4gCnRyYWlsZXIKPDwgL1NpemUgNiAvUm9vdCAxIDAgUiA+PgpzdGFydHhyZWYKOTI1CiUl"
  "RU9GCg==";

static const struct
{
  const char *snomed;
  const char *icd10;
} icd10_for_snomed[] = {
  { "38341003", "I10" }, { "44054006", "E11.9" }, { "10509002", "J20.9" },
  { "195967001", "J45.9" }, { "37796009", "G43.9" }, { "53741008", "I25.1" },
  { "55822004", "E78.5" }, { "40930008", "E03.9" }, { "43116000", "L30.9" },
  { "13645005", "J44.9" }, { "64859006", "M81.0" },
};

/* Vital signs of one patient: how many measurements, how far apart, and where the values go
 * from the first to the latest (NAN: not measured). */
typedef struct
{
  guint  count;
  guint  every_days;
  double sbp[2], dbp[2], hr[2], temp[2], weight[2], glucose[2];
} VitalsPlan;

static const VitalsPlan vitals_plans[] = {
  /* 张秀英: hypertension and diabetes, slowly improving over nine months. */
  { 10, 28, { 156, 138 }, { 94, 84 }, { 80, 74 }, { NAN, 36.6 }, { 64.0, 62.1 }, { 8.9, 7.2 } },
  /* 王浩然, 4: a feverish child. */
  { 2, 1, { NAN, NAN }, { NAN, NAN }, { 118, 104 }, { 38.6, 37.4 }, { 17.5, 17.5 }, { NAN, NAN } },
  /* 刘洋: asthma. */
  { 3, 60, { 118, 122 }, { 76, 78 }, { 72, 76 }, { 36.5, 36.7 }, { 70.0, 71.0 }, { NAN, NAN } },
  /* 陈静 */
  { 2, 90, { 112, 116 }, { 72, 74 }, { 70, 74 }, { NAN, NAN }, { 55.0, 55.5 }, { NAN, NAN } },
  /* 杨志强: coronary disease, blood pressure just above target. */
  { 8, 30, { 136, 144 }, { 84, 90 }, { 66, 70 }, { NAN, NAN }, { 79.0, 78.0 }, { 5.8, 6.1 } },
  /* 赵丽 */
  { 2, 120, { 118, 120 }, { 76, 78 }, { 64, 66 }, { NAN, NAN }, { 61.0, 61.5 }, { NAN, NAN } },
  /* 黄小明 */
  { 2, 180, { 120, 118 }, { 74, 72 }, { 74, 72 }, { NAN, NAN }, { 68.0, 69.0 }, { NAN, NAN } },
  /* 周桂兰, 86: COPD, losing weight. */
  { 6, 30, { 124, 132 }, { 72, 76 }, { 84, 92 }, { 36.6, 36.9 }, { 48.6, 47.2 }, { NAN, NAN } },
};

typedef struct
{
  guint       index;
  int         days_ago;
  const char *reason;
  const char *icd10;
  const char *diagnosis;
  const char *note;
} EarlierVisit;

static const EarlierVisit earlier_visits[] = {
  { 0, 183, "血糖控制不佳 Poorly controlled blood glucose", "E11.9",
    "2型糖尿病 Type 2 diabetes mellitus",
    "## Chief complaint\n\n空腹血糖 8-9 mmol/L 一月 Fasting glucose 8–9 mmol/L for a month\n\n"
    "## History\n\n二甲双胍 0.5 g 每日两次，饮食控制不佳，无低血糖。On metformin 0.5 g twice daily; "
    "diet not kept; no hypoglycaemia.\n\n## Diagnosis\n\n- E11.9 Type 2 diabetes mellitus without "
    "complications / 2型糖尿病\n\n## Advice\n\n控制主食，每日步行 30 分钟，三个月后复查 HbA1c。"
    "Less staple food, walk 30 minutes a day, HbA1c again in three months.\n" },
  { 0, 92, "血压复查 Blood pressure review", "I10", "原发性高血压 Essential hypertension",
    "## Chief complaint\n\n家庭血压 150/90 左右 Home blood pressure around 150/90\n\n"
    "## History\n\n偶有头晕，无胸痛。氨氯地平 5 mg 每日一次。Occasional dizziness, no chest pain. "
    "Amlodipine 5 mg daily.\n\n## Diagnosis\n\n- I10 Essential (primary) hypertension / 原发性高血压\n\n"
    "## Advice\n\n低盐饮食，每天早晚测血压并记录，一个月后复诊。Low-salt diet, measure morning and "
    "evening, follow up in one month.\n" },
  { 2, 60, "哮喘发作 Asthma flare", "J45.9", "支气管哮喘 Asthma",
    "## Chief complaint\n\n夜间喘息三天 Wheezing at night for three days\n\n## History\n\n"
    "换季后加重，沙丁胺醇每日使用 3 次。Worse since the change of season; salbutamol three times "
    "a day.\n\n## Diagnosis\n\n- J45.9 Asthma, unspecified / 支气管哮喘\n\n## Advice\n\n"
    "规律使用吸入激素，避免阿司匹林类药物。Regular inhaled steroid; avoid aspirin-type medicines.\n" },
  { 4, 45, "胸闷复诊 Chest tightness follow-up", "I25.1", "冠心病 Coronary heart disease",
    "## Chief complaint\n\n活动后胸闷 Chest tightness on exertion\n\n## History\n\n"
    "爬三层楼后出现，休息 3 分钟缓解。Comes after three flights of stairs, eases within three "
    "minutes of rest.\n\n## Diagnosis\n\n- I25.1 Atherosclerotic heart disease / "
    "冠状动脉粥样硬化性心脏病\n\n## Advice\n\n继续阿司匹林、阿托伐他汀；胸痛超过 15 分钟立即拨打 120。"
    "Continue aspirin and atorvastatin; call 120 for chest pain lasting over 15 minutes.\n" },
  { 7, 30, "咳嗽气短加重 Worse cough and breathlessness", "J44.1",
    "慢阻肺急性加重 COPD exacerbation",
    "## Chief complaint\n\n咳嗽咳痰加重一周 More cough and sputum for a week\n\n## History\n\n"
    "黄痰，无发热，平地行走气短。Yellow sputum, no fever, breathless walking on the flat.\n\n"
    "## Diagnosis\n\n- J44.1 Chronic obstructive pulmonary disease with acute exacerbation, "
    "unspecified / 慢性阻塞性肺疾病急性加重\n\n## Advice\n\n继续噻托溴铵，如出现嘴唇发紫或说话困难"
    "立即急诊。Continue tiotropium; emergency care at once for blue lips or trouble speaking.\n" },
};

static const struct
{
  guint       index;
  const char *medicine;
  const char *dosage;
  int         since_days;
} medications[] = {
  { 0, "氨氯地平片 Amlodipine 5 mg", "每日一次，每次 1 片 Once a day, 1 tablet", 400 },
  { 0, "二甲双胍片 Metformin 0.5 g", "每日两次，餐时服 Twice a day with meals", 700 },
  { 2, "沙丁胺醇气雾剂 Salbutamol inhaler 100 µg", "按需吸入 1–2 揿 1–2 puffs when needed", 900 },
  { 2, "布地奈德吸入剂 Budesonide inhaler 200 µg", "每日两次 Twice a day", 60 },
  { 4, "阿司匹林肠溶片 Aspirin 100 mg", "每日一次 Once a day", 800 },
  { 4, "阿托伐他汀钙片 Atorvastatin 20 mg", "每晚一次 Once at night", 800 },
  { 5, "左甲状腺素钠片 Levothyroxine 50 µg", "每日早晨空腹 Every morning before breakfast", 1500 },
  { 7, "噻托溴铵吸入粉雾剂 Tiotropium 18 µg", "每日一次吸入 One inhalation a day", 1000 },
  { 7, "碳酸钙 D3 片 Calcium carbonate with vitamin D3", "每日一次 Once a day", 500 },
};

typedef struct
{
  WzDemoSink  sink;
  GRand      *rand;
} Rec;

void
wz_demo_record_add_condition_code (JsonBuilder *b,
                                   const char  *snomed,
                                   const char  *text)
{
  const char *icd10 = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (icd10_for_snomed); i++)
    if (g_strcmp0 (icd10_for_snomed[i].snomed, snomed) == 0)
      icd10 = icd10_for_snomed[i].icd10;

  json_builder_set_member_name (b, "code");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  if (icd10 != NULL)
    wz_json_add_coding (b, WZ_DEMO_ICD10, icd10, NULL);
  wz_json_add_coding (b, WZ_DEMO_SNOMED, snomed, text);
  json_builder_end_array (b);
  if (text != NULL)
    wz_demo_fhir_add_string (b, "text", text);
  json_builder_end_object (b);
}

/* The stored resource ENTITY ("Type/id") as a JSON object to change, without its meta; STORED
 * keeps the version it was read at for store_update(). */
static JsonNode *
read_for_update (Rec               *rec,
                 const char        *entity,
                 WzStoredResource **stored,
                 GError           **error)
{
  const char *slash = strchr (entity, '/');
  g_autofree char *type = g_strndup (entity, slash - entity);
  g_autofree char *text = NULL;
  gsize size;
  const char *data;
  JsonNode *root;

  if ((*stored = wz_store_read (rec->sink.store, type, slash + 1, error)) == NULL)
    return NULL;
  /* The stored bytes are not NUL-terminated. */
  data = g_bytes_get_data ((*stored)->json, &size);
  text = g_strndup (data, size);
  if ((root = json_from_string (text, error)) == NULL)
    return NULL;
  json_object_remove_member (json_node_get_object (root), "meta");
  return root;
}

/* Writes OBJECT as the next version of STORED (read by read_for_update()) and audits it. */
static gboolean
store_update (Rec               *rec,
              WzStoredResource  *stored,
              const char        *entity,
              JsonObject        *object,
              GError           **error)
{
  g_autoptr(WzStoredResource) updated = wz_store_update (rec->sink.store, object, stored->id,
                                                         stored->version_id, error);

  if (updated == NULL)
    return FALSE;
  wz_audit_record (rec->sink.audit, "U", "0", WZ_DEMO_AGENT, entity, updated->patient, "local",
                   NULL, NULL);
  return TRUE;
}

/* "content": [{"attachment": …}] of a DocumentReference; LANGUAGE may be NULL. */
static void
add_attachment (JsonBuilder *b,
                const char  *content_type,
                const char  *language,
                const char  *base64,
                const char  *title)
{
  json_builder_set_member_name (b, "content");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "attachment");
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "contentType", content_type);
  if (language != NULL)
    wz_demo_fhir_add_string (b, "language", language);
  wz_demo_fhir_add_string (b, "data", base64);
  wz_demo_fhir_add_string (b, "title", title);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

/* ---------------------------------------------------------------------------------------- */
/* Vital signs */

static void
quantity (JsonBuilder *b,
          double       value,
          const char  *unit,
          const char  *ucum)
{
  json_builder_set_member_name (b, "valueQuantity");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "value");
  json_builder_add_double_value (b, round (value * 10) / 10);
  wz_demo_fhir_add_string (b, "unit", unit);
  wz_demo_fhir_add_string (b, "system", UCUM);
  wz_demo_fhir_add_string (b, "code", ucum);
  json_builder_end_object (b);
}

static void
observation_start (JsonBuilder *b,
                   const char  *patient,
                   const char  *when,
                   const char  *category)
{
  wz_demo_fhir_begin_resource (b, "Observation");
  wz_demo_fhir_add_string (b, "status", "final");
  wz_demo_fhir_add_category (b, "http://terminology.hl7.org/CodeSystem/observation-category",
                             category);
  wz_demo_fhir_add_reference (b, "subject", patient, NULL);
  wz_demo_fhir_add_string (b, "effectiveDateTime", when);
}
static gboolean
add_simple (Rec          *rec,
            const char   *patient,
            const char   *when,
            const char   *code,
            const char   *display,
            const char   *text,
            const char   *category,
            double        value,
            const char   *unit,
            const char   *ucum,
            GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  observation_start (b, patient, when, category);
  wz_demo_fhir_add_concept (b, "code", LOINC, code, display, text);
  quantity (b, value, unit, ucum);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (&rec->sink, b, error);
}

static gboolean
add_blood_pressure (Rec          *rec,
                    const char   *patient,
                    const char   *when,
                    double        sbp,
                    double        dbp,
                    GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  observation_start (b, patient, when, "vital-signs");
  wz_demo_fhir_add_concept (b, "code", LOINC, "85354-9", "Blood pressure panel", "血压 Blood pressure");
  json_builder_set_member_name (b, "component");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_concept (b, "code", LOINC, "8480-6", "Systolic blood pressure", NULL);
  quantity (b, round (sbp), "mmHg", "mm[Hg]");
  json_builder_end_object (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_concept (b, "code", LOINC, "8462-4", "Diastolic blood pressure", NULL);
  quantity (b, round (dbp), "mmHg", "mm[Hg]");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (&rec->sink, b, error);
}

/* A value on the way from FROM to TO at step I of N, with a little day-to-day noise. */
static double
along (Rec          *rec,
       const double  range[2],
       guint         i,
       guint         n,
       double        noise)
{
  double t = n > 1 ? (double) i / (n - 1) : 1.0;
  double value = range[0] + (range[1] - range[0]) * t;

  /* The latest value is exactly the planned one, so what the record shows is predictable. */
  if (i + 1 < n)
    value += g_rand_double_range (rec->rand, -noise, noise);

  return value;
}

static gboolean
add_vitals (Rec          *rec,
            const char   *patient,
            guint         index,
            GError      **error)
{
  const VitalsPlan *plan = &vitals_plans[index];

  for (guint i = 0; i < plan->count; i++)
    {
      int days_ago = (int) ((plan->count - 1 - i) * plan->every_days) + 1;
      g_autofree char *when = wz_demo_fhir_days_ago_at (days_ago, 8, 40);

      if (!isnan (plan->sbp[0])
          && !add_blood_pressure (rec, patient, when, along (rec, plan->sbp, i, plan->count, 6),
                                  along (rec, plan->dbp, i, plan->count, 4), error))
        return FALSE;
      if (!isnan (plan->hr[0])
          && !add_simple (rec, patient, when, "8867-4", "Heart rate", "心率 Heart rate",
                          "vital-signs", round (along (rec, plan->hr, i, plan->count, 4)),
                          "/min", "/min", error))
        return FALSE;
      if (!isnan (plan->temp[1]) && (!isnan (plan->temp[0]) || i + 1 == plan->count)
          && !add_simple (rec, patient, when, "8310-5", "Body temperature", "体温 Temperature",
                          "vital-signs",
                          isnan (plan->temp[0]) ? plan->temp[1]
                                                : along (rec, plan->temp, i, plan->count, 0.2),
                          "°C", "Cel", error))
        return FALSE;
      if (!isnan (plan->weight[0])
          && !add_simple (rec, patient, when, "29463-7", "Body weight", "体重 Weight",
                          "vital-signs", along (rec, plan->weight, i, plan->count, 0.4),
                          "kg", "kg", error))
        return FALSE;
      if (!isnan (plan->glucose[0])
          && !add_simple (rec, patient, when, "15074-8", "Glucose [Moles/volume] in Blood",
                          "空腹血糖 Fasting glucose", "laboratory",
                          along (rec, plan->glucose, i, plan->count, 0.5),
                          "mmol/L", "mmol/L", error))
        return FALSE;
    }

  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Earlier visits, medicines, documents */

static gboolean
add_earlier_visit (Rec                *rec,
                   const char         *patient,
                   const char         *doctor,
                   const EarlierVisit *visit,
                   GError            **error)
{
  g_autoptr(JsonBuilder) e = json_builder_new ();
  g_autoptr(JsonBuilder) c = json_builder_new ();
  g_autoptr(JsonBuilder) d = json_builder_new ();
  g_autofree char *start = wz_demo_fhir_days_ago_at (visit->days_ago, 9, 10);
  g_autofree char *end = wz_demo_fhir_days_ago_at (visit->days_ago, 9, 32);
  g_autofree char *encounter = NULL;
  g_autofree char *condition = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) visit->note, strlen (visit->note));
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *diagnoses;
  JsonObject *diagnosis;
  JsonObject *ref;

  /* The visit first (without its diagnosis, which needs the Condition's id). */
  wz_demo_fhir_build_encounter (e, "finished", patient, NULL, doctor, NULL, NULL, start, end,
                                visit->reason);
  if ((encounter = wz_demo_fhir_store (&rec->sink, e, error)) == NULL)
    return FALSE;

  wz_demo_fhir_begin_condition (c, "encounter-diagnosis");
  wz_demo_fhir_add_concept (c, "code", WZ_DEMO_ICD10, visit->icd10, NULL, visit->diagnosis);
  wz_demo_fhir_add_reference (c, "subject", patient, NULL);
  wz_demo_fhir_add_reference (c, "encounter", encounter, NULL);
  wz_demo_fhir_add_string (c, "recordedDate", end);
  wz_demo_fhir_add_reference (c, "recorder", doctor, NULL);
  json_builder_end_object (c);
  if ((condition = wz_demo_fhir_store (&rec->sink, c, error)) == NULL)
    return FALSE;

  wz_demo_fhir_begin_resource (d, "DocumentReference");
  wz_demo_fhir_add_string (d, "status", "current");
  wz_demo_fhir_add_string (d, "docStatus", "final");
  wz_demo_fhir_add_concept (d, "type", LOINC, "11488-4", "Consult note", NULL);
  wz_demo_fhir_add_reference (d, "subject", patient, NULL);
  wz_demo_fhir_add_string (d, "date", end);
  wz_demo_fhir_add_list_of_one (d, "author", "reference", doctor);
  add_attachment (d, "text/markdown", "zh-CN", encoded, "Visit note");
  json_builder_set_member_name (d, "context");
  json_builder_begin_object (d);
  wz_demo_fhir_add_list_of_one (d, "encounter", "reference", encounter);
  json_builder_end_object (d);
  json_builder_end_object (d);
  if (!wz_demo_fhir_store_ok (&rec->sink, d, error))
    return FALSE;

  /* Now the visit names its diagnosis, as a finished visit does. */
  if ((root = read_for_update (rec, encounter, &stored, error)) == NULL)
    return FALSE;
  diagnoses = json_array_new ();
  diagnosis = json_object_new ();
  ref = json_object_new ();
  json_object_set_string_member (ref, "reference", condition);
  json_object_set_object_member (diagnosis, "condition", ref);
  json_object_set_int_member (diagnosis, "rank", 1);
  json_array_add_object_element (diagnoses, diagnosis);
  json_object_set_array_member (json_node_get_object (root), "diagnosis", diagnoses);
  return store_update (rec, stored, encounter, json_node_get_object (root), error);
}

static gboolean
add_medication (Rec          *rec,
                const char   *patient,
                const char   *doctor,
                const char   *medicine,
                const char   *dosage,
                int           since_days,
                GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *since = wz_demo_fhir_days_ago_at (since_days, 9, 0);
  g_autofree char *asserted = wz_demo_fhir_days_ago_at (1, 9, 0);

  wz_demo_fhir_begin_resource (b, "MedicationStatement");
  wz_demo_fhir_add_string (b, "status", "active");
  json_builder_set_member_name (b, "medicationCodeableConcept");
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "text", medicine);
  json_builder_end_object (b);
  wz_demo_fhir_add_reference (b, "subject", patient, NULL);
  json_builder_set_member_name (b, "effectivePeriod");
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "start", since);
  json_builder_end_object (b);
  wz_demo_fhir_add_string (b, "dateAsserted", asserted);
  wz_demo_fhir_add_reference (b, "informationSource", doctor, NULL);
  wz_demo_fhir_add_list_of_one (b, "dosage", "text", dosage);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (&rec->sink, b, error);
}

static gboolean
add_document (Rec          *rec,
              const char   *patient,
              const char   *loinc,
              const char   *type_text,
              const char   *title,
              const char   *content_type,
              const char   *base64,
              int           days_ago,
              GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *date = wz_demo_fhir_days_ago_at (days_ago, 15, 20);

  wz_demo_fhir_begin_resource (b, "DocumentReference");
  wz_demo_fhir_add_string (b, "status", "current");
  wz_demo_fhir_add_concept (b, "type", LOINC, loinc, NULL, type_text);
  wz_demo_fhir_add_reference (b, "subject", patient, NULL);
  wz_demo_fhir_add_string (b, "date", date);
  wz_demo_fhir_add_string (b, "description", title);
  add_attachment (b, content_type, NULL, base64, title);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (&rec->sink, b, error);
}

static gboolean
add_id_card (Rec          *rec,
             const char   *patient,
             guint         index,
             GError      **error)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) root = read_for_update (rec, patient, &stored, error);
  g_autofree char *number = NULL;
  JsonObject *object;
  JsonArray *identifiers;
  JsonObject *card;
  JsonObject *type;
  JsonArray *codings;
  JsonObject *coding;
  const char *birth;

  if (root == NULL)
    return FALSE;

  object = json_node_get_object (root);
  birth = json_object_get_string_member_with_default (object, "birthDate", "1970-01-01");
  number = wz_demo_resident_id ("110105", birth,
                                g_strcmp0 (json_object_get_string_member_with_default (object,
                                                                                      "gender",
                                                                                      ""),
                                           "male") == 0,
                                50 + index * 7);

  identifiers = json_object_get_array_member (object, "identifier");
  card = json_object_new ();
  type = json_object_new ();
  codings = json_array_new ();
  coding = json_object_new ();
  json_object_set_string_member (coding, "system", "http://terminology.hl7.org/CodeSystem/v2-0203");
  json_object_set_string_member (coding, "code", "NNCHN");
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (type, "coding", codings);
  json_object_set_string_member (type, "text", "居民身份证 Resident identity card");
  json_object_set_string_member (card, "use", "official");
  json_object_set_object_member (card, "type", type);
  json_object_set_string_member (card, "system", WZ_DEMO_RESIDENT_ID_SYSTEM);
  json_object_set_string_member (card, "value", number);
  json_array_add_object_element (identifiers, card);

  return store_update (rec, stored, patient, object, error);
}

gboolean
wz_demo_record_add (WzStore     *store_,
                    WzAudit     *audit,
                    const char  *patient,
                    const char  *doctor,
                    guint        index,
                    GError     **error)
{
  Rec rec = { { store_, audit }, NULL };
  gboolean ok = TRUE;

  g_return_val_if_fail (patient != NULL && g_str_has_prefix (patient, "Patient/"), FALSE);

  if (index >= G_N_ELEMENTS (vitals_plans))
    return TRUE;

  /* The same demo every time: the noise in the measurements is seeded by the patient. */
  rec.rand = g_rand_new_with_seed (20240 + index);

  ok = add_id_card (&rec, patient, index, error) && add_vitals (&rec, patient, index, error);

  for (guint i = 0; ok && i < G_N_ELEMENTS (earlier_visits); i++)
    if (earlier_visits[i].index == index)
      ok = add_earlier_visit (&rec, patient, doctor, &earlier_visits[i], error);

  for (guint i = 0; ok && i < G_N_ELEMENTS (medications); i++)
    if (medications[i].index == index)
      ok = add_medication (&rec, patient, doctor, medications[i].medicine, medications[i].dosage,
                           medications[i].since_days, error);

  if (ok && index == 0)
    ok = add_document (&rec, patient, "11524-6", "心电图 ECG", "心电图 ECG (home recorder)",
                       "image/png", ecg_png_base64, 20, error)
         && add_document (&rec, patient, "11502-2", "化验报告 Laboratory report",
                          "血液化验报告 Blood test report", "application/pdf", lab_pdf_base64, 12,
                          error);

  g_rand_free (rec.rand);

  return ok;
}
